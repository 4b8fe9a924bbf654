import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

export default defineConfig([
  {
    // The library: ESM and CommonJS, with types for both.
    entry: { index: 'src/index.ts', receiver: 'src/receiver.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
    platform: 'node',
    sourcemap: true,
    clean: true,
    splitting: false,
  },
  {
    // The command line, one executable ESM file.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    sourcemap: true,
    splitting: false,
    banner: { js: '#!/usr/bin/env node' },
    define: { PACKAGE_VERSION: JSON.stringify(version) },
  },
]);
