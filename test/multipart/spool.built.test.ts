import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, writeFile } from '../helpers/files.js';

// Spool files across a process's life: programs in test/fixtures/spool/ run the build (dist/) in a
// child process, so these tests need the build.
const root = join(import.meta.dirname, '..', '..');
const library = join(root, 'dist', 'index.js');
const fixture = (name: string) => join(root, 'test', 'fixtures', 'spool', name);

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/** Runs a fixture; `onLine` sees each stdout line as it comes (to kill the child at the right moment). */
function run(
  name: string,
  args: string[],
  options: { gc?: boolean; onLine?: (line: string, kill: (s: NodeJS.Signals) => void) => void } = {},
): Promise<Run> {
  const child = spawn(process.execPath, [...(options.gc ? ['--expose-gc'] : []), fixture(name), library, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk;
    for (const line of String(chunk).split('\n')) if (line !== '') options.onLine?.(line, (s) => child.kill(s));
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, out: out.trim() });
    }),
  );
}

describe('spool files in a process that ends', () => {
  it('are removed when the process exits without dispose()', async () => {
    const dir = tempDir();
    expect(await run('exit-without-dispose.mjs', [dir])).toMatchObject({ code: 0, out: '1 true' });
    expect(readdirSync(dir)).toEqual([]);
  });

  // The fixture, and the line it prints once its files exist.
  const killed = [
    ['while it spools', 'killed-while-spooling.mjs', 'spooling'],
    ['with both builds in the process, each holding a file', 'two-builds-killed.mjs', 'spooled'],
  ] as const;
  it.each(
    (['SIGTERM', 'SIGINT', 'SIGHUP'] as const).flatMap((signal) => killed.map((row) => [signal, ...row] as const)),
  )('are removed when %s kills it %s, and it dies of the signal', async (signal, _when, fixture, ready) => {
    const dir = tempDir();
    const result = await run(fixture, [dir], {
      onLine: (line, kill) => {
        if (line === ready) kill(signal);
      },
    });
    expect(result).toMatchObject({ code: null, signal, out: ready });
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    "are left to the application's own %s handler, and removed when it exits",
    async (signal) => {
      const dir = tempDir();
      const result = await run('killed-while-spooling.mjs', [dir, 'own-handler'], {
        onLine: (line, kill) => {
          if (line === 'spooling') kill(signal);
        },
      });
      expect(result).toMatchObject({ code: 0, out: `spooling\nhandled ${signal}` });
      expect(readdirSync(dir)).toEqual([]);
    },
  );
});

describe('spool files live as long as something reads them', () => {
  it('a spooled body nested in another keeps its file after the inner body is collected', async () => {
    const dir = tempDir();
    expect(await run('nested-gc.mjs', [dir], { gc: true })).toMatchObject({ code: 0, out: 'true 1' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("Blobs made from a spooled body's Blob (a slice, a File, FormData's) read it after both are collected", async () => {
    const dir = tempDir();
    expect(await run('derived-blobs-gc.mjs', [dir], { gc: true })).toMatchObject({ code: 0, out: 'true true true' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a toBlob() that failed keeps nothing: the file goes with the body', async () => {
    const dir = tempDir();
    const scratch = join(tempDir(), 'u.txt');
    expect(await run('failed-blob-gc.mjs', [dir, scratch], { gc: true })).toMatchObject({
      code: 0,
      out: 'ERR_SIZE_MISMATCH 0',
    });
  });

  it("a spooled body's Blob keeps its file after the body is collected", async () => {
    const dir = tempDir();
    expect(await run('blob-keeps-file.mjs', [dir], { gc: true })).toMatchObject({ code: 0, out: 'true' });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('byte ranges of -0', () => {
  it('start: -0 and end: -0 are 0: Blob.slice never sees -0 (it aborts Node 20)', async () => {
    const dir = tempDir();
    const path = writeFile(dir, 'abc.txt', 'abcdef');
    expect(await run('slice-negative-zero.mjs', [path])).toEqual({ code: 0, signal: null, out: 'abc\n""\ntrue' });
  });
});
