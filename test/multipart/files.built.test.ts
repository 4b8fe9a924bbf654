import { execFileSync } from 'node:child_process';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';

// Runs programs against the built package (dist/) in child processes, so it needs the build.
const dir = tempDir();
const root = join(import.meta.dirname, '..', '..');

/** Runs a script against the built package in a child process, with a shell prefix such as `ulimit`. */
function runBuilt(script: string, shellPrefix = ''): string {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script.replaceAll('PKG', join(root, 'dist/index.js')));
  return execFileSync(
    'bash',
    ['-c', `${shellPrefix} exec ${JSON.stringify(process.execPath)} ${JSON.stringify(file)}`],
    { encoding: 'utf8', timeout: 120_000 },
  );
}

describe('frugal with descriptors and memory', () => {
  it('encodes 10,000 file parts under ulimit -n 256', () => {
    const many = join(dir, 'many');
    mkdirSync(many);
    for (let i = 0; i < 10_000; i++) writeFileSync(join(many, `${i}.txt`), `file number ${i}\n`);
    const output = runBuilt(
      `import { multipartEncode, MultipartParam } from 'PKG';
       const params = [];
       for (let i = 0; i < 10000; i++) params.push(await MultipartParam.fromFile('f' + i, ${JSON.stringify(many)} + '/' + i + '.txt'));
       const form = await multipartEncode(params);
       let n = 0; for await (const c of form.body) n += c.length;
       console.log(JSON.stringify({ n, expected: form.contentLength }));`,
      'ulimit -n 256 &&',
    );
    const { n, expected } = JSON.parse(output) as { n: number; expected: number };
    expect(n).toBe(expected);
  });

  it('keeps memory flat for a 2 GiB file, with onProgress set', () => {
    const big = join(dir, 'sparse-2g.bin');
    writeFileSync(big, '');
    truncateSync(big, 2 * 1024 ** 3);
    const output = runBuilt(
      `import { multipartEncode, MultipartParam } from 'PKG';
       let calls = 0;
       const form = await multipartEncode({ f: await MultipartParam.fromFile('f', ${JSON.stringify(big)}) }, { onProgress: () => calls++ });
       let n = 0; for await (const c of form.body) n += c.length;
       console.log(JSON.stringify({ n, expected: form.contentLength, calls, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));`,
    );
    const { n, expected, calls, maxRssMiB } = JSON.parse(output) as Record<string, number>;
    expect(n).toBe(expected);
    expect(calls).toBeGreaterThan(2000);
    expect(maxRssMiB).toBeLessThan(160);
  });
});
