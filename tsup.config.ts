import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { defineConfig, type Options } from 'tsup';
import { mimeTable } from './scripts/mime-table.mjs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

// dist/ is emptied once, here, before any build: tsup builds the configs below at once, and a
// config's own `clean` could remove files another one had already written (the chunks' names
// change with their content, so old ones must go).
rmSync('dist', { recursive: true, force: true });

type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number];

/** The library's public entry points, as src/cli/*.ts import them, and the built files beside dist/cli.js. */
const LIBRARY_ENTRIES: Record<string, string> = {
  '../index.js': './index.js',
  '../receiver/index.js': './receiver.js',
};

/**
 * Modules of src/common/ the CLI may bundle a copy of: they import nothing and define no class and
 * no state, so a copy behaves as the library's own (test/cli/errors.test.ts checks both).
 */
const PURE_SHARED_MODULES = new Set([
  '../common/http2-codes.js',
  '../common/media-type.js',
  '../common/messages.js',
  '../common/visible.js',
]);

/**
 * Makes the CLI use the published library instead of bundling a second copy of
 * it: `../index.js` and `../receiver/index.js` imported from src/cli/ stay imports, of
 * ./index.js and ./receiver.js next to dist/cli.js. Any other import of the
 * library's internals from src/cli/ (but the pure modules above) is still bundled, with a warning,
 * since that copy's classes are not the ones the library's functions create or throw.
 */
const useBuiltLibrary: EsbuildPlugin = {
  name: 'cli-uses-built-library',
  setup(build) {
    const cliDir = join(process.cwd(), 'src', 'cli');
    build.onResolve({ filter: /^\.\.\// }, (args) => {
      if (relative(cliDir, dirname(args.importer)) !== '') return undefined;
      const entry = LIBRARY_ENTRIES[args.path];
      if (entry) return { path: entry, external: true };
      if (PURE_SHARED_MODULES.has(args.path)) return undefined;
      return {
        warnings: [
          {
            text: `${relative(process.cwd(), args.importer).split(sep).join('/')} imports ${args.path}: a second copy of library code is bundled into dist/cli.js; import from ../index.js or ../receiver/index.js instead`,
          },
        ],
      };
    });
  },
};

/**
 * Takes node:fs through require() in the library's build: an ESM `import { ... } from 'node:fs'`
 * makes node read every export of fs, and its ReadStream and WriteStream getters load all of
 * node:stream (Node 20), on every import of the package. Static imports only; each name the
 * library imports is read once, as the import would.
 */
const fsByRequire: EsbuildPlugin = {
  name: 'fs-by-require',
  setup(build) {
    const names = Object.keys(createRequire(import.meta.url)('node:fs') as object).filter((name) =>
      /^[A-Za-z_$][\w$]*$/.test(name),
    );
    const contents = [
      "import { createRequire } from 'node:module';",
      "const fs = createRequire(import.meta.url)('node:fs');",
      'export default fs;',
      // Pure, so that the build keeps only the names the library imports.
      ...names.map((name) => `export const ${name} = /* @__PURE__ */ (() => fs.${name})();`),
    ].join('\n');
    build.onResolve({ filter: /^(node:)?fs$/ }, (args) =>
      args.kind === 'import-statement' ? { path: 'node:fs', namespace: 'fs-by-require' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'fs-by-require' }, () => ({ contents, loader: 'js' }));
  },
};

/** What the library's builds share (the main entry, the receiver, the form-data drop-in). */
const LIBRARY: Options = {
  format: ['esm', 'cjs'],
  target: 'node20',
  platform: 'node',
  // No source maps: the published package ships no src/ for them to point at.
  sourcemap: false,
  // esbuild renames classes it must refer to inside their own bodies (`_MultipartParam`); keep `.name` as written.
  keepNames: true,
  // import.meta.url in the CommonJS build (src/common/lazy.ts loads node:crypto when first used through createRequire).
  shims: true,
  define: { MIME_TABLE: JSON.stringify(mimeTable()) },
  esbuildPlugins: [fsByRequire],
  // Keeps `node:` on builtins: tsup's plugin that removes it runs first and would mark node:fs external before fsByRequire sees it.
  removeNodeProtocol: false,
};

export default defineConfig([
  {
    // The library: ESM and CommonJS, with types for both. Split: upload(), the decoder and
    // uploadParts() import() their code on first use, each a chunk in dist/chunks/ (for CommonJS,
    // tsup turns the chunks' imports into require()s), so that importing the package compiles only
    // what every user needs (bench/README.md, the import's cost).
    entry: { index: 'src/index.ts' },
    ...LIBRARY,
    dts: true,
    splitting: true,
    esbuildOptions(options) {
      options.chunkNames = 'chunks/[name]-[hash]';
      // The loaded-on-first-use files import '../index.js' to shape the chunks, not for side effects
      // (the package has none): esbuild's warning that it drops that import's side effects is expected.
      options.logOverride = { 'ignored-bare-import': 'silent' };
    },
  },
  {
    // multipart-poster/receiver, whole in one file (it uses the decoder at once).
    entry: { receiver: 'src/receiver/index.ts' },
    ...LIBRARY,
    dts: true,
    splitting: false,
  },
  {
    // multipart-poster/form-data, the drop-in for the form-data package: `require()` gives the class itself.
    entry: { 'form-data': 'src/form-data/index.ts' },
    ...LIBRARY,
    dts: true,
    cjsInterop: true,
    // tsup writes `module.exports = exports.default` (cjsInterop) only for a build it splits; one entry makes no chunks.
    splitting: true,
  },
  {
    // The command line, one executable ESM file that imports the library beside it.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    sourcemap: false,
    keepNames: true,
    splitting: false,
    banner: { js: '#!/usr/bin/env node' },
    define: { PACKAGE_VERSION: JSON.stringify(version) },
    esbuildPlugins: [useBuiltLibrary],
  },
]);
