import { statSync, type Stats } from 'node:fs';
import { LoopTurns } from './turns.js';

type StatDone = (error: Error | null, stats: Stats | undefined) => void;

/** Paths waiting for their stat and what to call with it, in pairs, oldest first from `next`: a queue that never shifts its array. */
const waiting: Array<string | StatDone | undefined> = [];
let next = 0;
let scheduled = false;

/**
 * `stat`, made in slices of the event loop's time: `done` runs in a later turn with this path's
 * stat. A directory's worth of `fromFile` calls made at once (`Promise.all(paths.map(...))`)
 * costs a thread-pool round trip per file through `fs.stat`, each waking a pool thread that takes
 * the core from the main thread, and its completions arrive in bursts; a synchronous stat of a
 * file whose metadata is cached costs microseconds, like the synchronous reads of small files.
 * The queue gives the loop a turn every millisecond. As with those reads, a path on a file system
 * that does not answer holds the loop until it does.
 */
export function statFew(path: string, done: StatDone): void {
  waiting.push(path, done);
  if (!scheduled) {
    scheduled = true;
    setImmediate(statSlice);
  }
}

function statSlice(): void {
  const turns = new LoopTurns();
  try {
    while (next < waiting.length && !turns.due) {
      const path = waiting[next] as string;
      const done = waiting[next + 1] as StatDone;
      waiting[next++] = undefined;
      waiting[next++] = undefined;
      const [error, stats] = statOf(path);
      done(error, stats);
    }
  } finally {
    // A callback that throws leaves the rest of the queue to the next turn, not stranded.
    if (next < waiting.length) setImmediate(statSlice);
    else {
      waiting.length = 0;
      next = 0;
      scheduled = false;
    }
  }
}

function statOf(path: string): [Error | null, Stats | undefined] {
  try {
    return [null, statSync(path)];
  } catch (error) {
    return [error as Error, undefined];
  }
}
