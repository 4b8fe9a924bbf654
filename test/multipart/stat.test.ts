import type { Stats } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatQueue } from '../../src/multipart/stat.js';
import { tempDir, writeFile } from '../helpers/files.js';

type Outcome = { size: number } | { code: string | undefined };

/** Stats every path through `queue`; every fourth path is missing. Resolves with each outcome, in order. */
function statAll(queue: StatQueue, count: number): { paths: string[]; outcomes: Promise<Outcome[]> } {
  const dir = join(tempDir(), 'files');
  mkdirSync(dir);
  const paths = Array.from({ length: count }, (_, i) =>
    i % 4 === 3 ? join(dir, `${i}.missing`) : writeFile(dir, `${i}`, 'x'.repeat(i)),
  );
  const outcomes = Promise.all(
    paths.map(
      (path) =>
        new Promise<Outcome>((resolve) =>
          queue.stat(path, (error: Error | null, stats: Stats | undefined) =>
            resolve(error ? { code: (error as NodeJS.ErrnoException).code } : { size: stats!.size }),
          ),
        ),
    ),
  );
  return { paths, outcomes };
}

const expected = (count: number): Outcome[] =>
  Array.from({ length: count }, (_, i) => (i % 4 === 3 ? { code: 'ENOENT' } : { size: i }));

describe('StatQueue', () => {
  it('answers every path with its own stat, synchronously in slices while stats are fast', async () => {
    const { outcomes } = statAll(new StatQueue(Number.POSITIVE_INFINITY), 300);
    expect(await outcomes).toEqual(expected(300));
  });

  it('answers in a later turn, never during the call', () => {
    let answered = false;
    new StatQueue().stat(tempDir(), () => (answered = true));
    expect(answered).toBe(false);
  });

  it('moves to the thread pool after a slow stat, and still answers every path once', async () => {
    // Every stat counts as slow: the first two are made synchronously, the rest through fs.stat, 16 at a time.
    const { outcomes } = statAll(new StatQueue(-1), 300);
    expect(await outcomes).toEqual(expected(300));
  });

  for (const [label, slowMs] of [
    ['synchronously', Number.POSITIVE_INFINITY],
    ['through the pool', -1],
  ] as const) {
    it(`answers a path fs refuses outright (a NUL byte) with its error, ${label}, and goes on`, async () => {
      const queue = new StatQueue(slowMs);
      const dir = tempDir();
      const paths = Array.from({ length: 40 }, (_, i) => (i % 3 === 1 ? `${dir}/a\0b${i}` : dir));
      const codes = await Promise.all(
        paths.map(
          (path) =>
            new Promise<string>((resolve) =>
              queue.stat(path, (error) => resolve((error as NodeJS.ErrnoException | null)?.code ?? 'ok')),
            ),
        ),
      );
      expect(codes).toEqual(paths.map((_, i) => (i % 3 === 1 ? 'ERR_INVALID_ARG_VALUE' : 'ok')));
    });
  }

  it('takes paths added while the pool works, and after it has emptied', async () => {
    const queue = new StatQueue(-1);
    const first = statAll(queue, 40);
    const second = statAll(queue, 40);
    expect(await first.outcomes).toEqual(expected(40));
    expect(await second.outcomes).toEqual(expected(40));
    expect(await statAll(queue, 5).outcomes).toEqual(expected(5));
  });
});
