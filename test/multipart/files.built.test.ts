import { execFileSync } from 'node:child_process';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';

// Runs consumer programs (test/fixtures/multipart/) against the built package (dist/) in child
// processes, so it needs the build.
const dir = tempDir();
const root = join(import.meta.dirname, '..', '..');
const library = join(root, 'dist', 'index.js');
const fixture = (name: string) => join(root, 'test', 'fixtures', 'multipart', name);

/** Runs a fixture with node, behind a shell prefix such as `ulimit`; its last output line, parsed. */
function runFixture(name: string, args: string[], shellPrefix = ''): Record<string, number> {
  const command = [process.execPath, fixture(name), library, ...args].map((arg) => JSON.stringify(arg)).join(' ');
  const output = execFileSync('sh', ['-c', `${shellPrefix} exec ${command}`], { encoding: 'utf8', timeout: 120_000 });
  return JSON.parse(output.trim().split('\n').at(-1)!) as Record<string, number>;
}

describe('frugal with descriptors and memory', () => {
  it('encodes 10,000 file parts under ulimit -n 256', () => {
    const many = join(dir, 'many');
    mkdirSync(many);
    for (let i = 0; i < 10_000; i++) writeFileSync(join(many, `${i}.txt`), `file number ${i}\n`);
    const { n, expected } = runFixture('many-files.mjs', [many, '10000'], 'ulimit -n 256 &&');
    expect(n).toBe(expected);
  });

  it('keeps memory flat for a 2 GiB file, with onProgress set', () => {
    const big = join(dir, 'sparse-2g.bin');
    writeFileSync(big, '');
    truncateSync(big, 2 * 1024 ** 3);
    const { n, expected, calls, maxRssMiB } = runFixture('big-file.mjs', [big]);
    expect(n).toBe(expected);
    expect(calls).toBeGreaterThan(2000);
    expect(maxRssMiB).toBeLessThan(160);
  });

  it("a spooled body's Blob keeps its temporary file while the Blob lives", () => {
    const spoolDir = tempDir();
    const output = execFileSync(process.execPath, ['--expose-gc', fixture('spooled-blob.mjs'), library, spoolDir], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(output.trim()).toBe('true');
  });
});
