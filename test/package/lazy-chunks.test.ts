// The package's import loads only what every user needs: upload(), the decoder and uploadParts()
// (with the protocols' requests) are chunks of the build that load on first use (bench/README.md,
// the import's cost). A fresh process imports the built package, then uses each area in turn,
// and reports which files of dist/ it had loaded at each step: the ESM build through a module
// loader hook, the CommonJS build through require.cache.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { env, mustRun } from '../helpers/package.js';

const dist = join(import.meta.dirname, '..', '..', 'dist');

/** The steps, in the order the child takes them: each lists the files of dist/ loaded so far. */
interface Steps {
  imported: string[];
  decoded: string[];
  uploaded: string[];
  uploadedInParts: string[];
  results: unknown[];
}

// Builtins the import does not need: the network's, and node:stream (an ESM import of node:fs would load it).
const UNNEEDED_BUILTINS = ['net', 'http', 'https', 'http2', 'tls', 'zlib', 'crypto', 'stream'];

// Uses each lazily loaded area against a server of its own on 127.0.0.1, then prints what was loaded.
const uses = (lib: string, loaded: string) => `
const library = ${lib};
const steps = { imported: ${loaded}, results: [] };
const { createServer } = require('node:http');
const run = async () => {
  const decoder = library.multipartDecode(Buffer.from('--b\\r\\n\\r\\nx\\r\\n--b--\\r\\n'), { boundary: 'b' });
  for await (const part of decoder) steps.results.push(await part.text());
  steps.decoded = ${loaded};
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { etag: '"e1"' }).end());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = 'http://127.0.0.1:' + server.address().port + '/';
  try {
    steps.results.push((await library.upload(url, { a: 'b' })).status);
    steps.uploaded = ${loaded};
    const protocol = library.s3Parts({ uploadId: 'U', partUrl: () => url, verifyETag: false });
    const result = await library.uploadParts(new Uint8Array(10), { protocol, store: false });
    steps.results.push(result.parts);
    steps.uploadedInParts = ${loaded};
  } finally {
    server.close();
  }
  console.log(JSON.stringify(steps));
};
run().catch((error) => { console.error(error); process.exitCode = 1; });
`;

const underDist = `.map((file) => file.startsWith(${JSON.stringify(dist + '/')}) ? file.slice(${dist.length + 1}) : undefined).filter(Boolean).sort()`;

async function runChild(format: 'esm' | 'cjs', dir: string): Promise<Steps> {
  const log = join(dir, 'loaded.log');
  const args: string[] = [];
  if (format === 'esm') {
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  if (url.startsWith('file:')) appendFileSync(process.env.LOADED_LOG, url + '\\n');\n  return next(url, context);\n}\n`,
    );
    writeFileSync(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`,
    );
    const loaded = `[...new Set(readFileSync(process.env.LOADED_LOG, 'utf8').split('\\n').filter(Boolean).map((url) => fileURLToPath(url)))]${underDist}`;
    writeFileSync(
      join(dir, 'child.mjs'),
      `import { readFileSync } from 'node:fs';\nimport { createRequire } from 'node:module';\nimport { fileURLToPath } from 'node:url';\nconst require = createRequire(import.meta.url);\n${uses(`await import(${JSON.stringify(join(dist, 'index.js'))})`, loaded)}`,
    );
    args.push('--import', join(dir, 'register.mjs'), join(dir, 'child.mjs'));
  } else {
    const loaded = `Object.keys(require.cache)${underDist}`;
    writeFileSync(join(dir, 'child.cjs'), uses(`require(${JSON.stringify(join(dist, 'index.cjs'))})`, loaded));
    args.push(join(dir, 'child.cjs'));
  }
  writeFileSync(log, '');
  const output = await mustRun(process.execPath, args, { cwd: dir, env: { ...env, LOADED_LOG: log } });
  return JSON.parse(output.trim().split('\n').pop()!) as Steps;
}

const added = (after: string[], before: string[]) => after.filter((file) => !before.includes(file));

describe.each(['esm', 'cjs'] as const)('the %s build, imported in a fresh process', (format) => {
  const ext = format === 'esm' ? 'js' : 'cjs';
  const dir = tempDir();
  let steps: Steps;
  beforeAll(async () => {
    steps = await runChild(format, dir);
  }, 60_000);

  it('loads the entry and one chunk', () => {
    expect(steps.imported).toHaveLength(2);
    expect(steps.imported).toContain(`index.${ext}`);
    expect(steps.imported.find((file) => file !== `index.${ext}`)).toMatch(new RegExp(`^chunks/[\\w-]+\\.${ext}$`));
  });

  it('loads no builtin it does not need', async () => {
    // Without the loader hook, whose own thread loads some of them.
    const code = [
      `const loaded = () => ${JSON.stringify(UNNEEDED_BUILTINS)}.filter((name) => process.moduleLoadList.includes('NativeModule ' + name));`,
      'const before = loaded();',
      format === 'esm'
        ? `await import(${JSON.stringify(join(dist, 'index.js'))});`
        : `require(${JSON.stringify(join(dist, 'index.cjs'))});`,
      'console.log(JSON.stringify(loaded().filter((name) => !before.includes(name))));',
    ].join('\n');
    // A file, not node -e, whose globals load builtins of their own.
    const file = join(dir, format === 'esm' ? 'builtins.mjs' : 'builtins.cjs');
    writeFileSync(file, code);
    expect(JSON.parse(await mustRun(process.execPath, [file], { cwd: dir, env }))).toEqual([]);
  });

  it('loads the decoder, the HTTP client and the parts engine each on first use, and they work', () => {
    expect(added(steps.decoded, steps.imported)).not.toEqual([]);
    expect(added(steps.uploaded, steps.decoded)).not.toEqual([]);
    expect(added(steps.uploadedInParts, steps.uploaded)).not.toEqual([]);
    expect(steps.results).toEqual(['x', 200, [{ PartNumber: 1, ETag: '"e1"' }]]);
    for (const file of steps.uploadedInParts) expect(file.endsWith(`.${ext}`), file).toBe(true);
  });
});

it('the built entry is small: what every import compiles is in the one chunk it imports', () => {
  const entry = readFileSync(join(dist, 'index.js'), 'utf8');
  expect(entry.match(/from "\.\/chunks\//g)).toHaveLength(1);
});
