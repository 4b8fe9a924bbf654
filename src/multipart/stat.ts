import { stat, statSync, type Stats } from 'node:fs';
import { LoopTurns } from '../common/turns.js';

export type StatDone = (error: Error | null, stats: Stats | undefined) => void;

/**
 * Two synchronous stats in a row slower than this (a network file system, a cold disk) send the
 * queue's later stats to the thread pool. One alone may be the scheduler's: a process preempted
 * during a stat of microseconds.
 */
const SLOW_STAT_MS = 2;
/** Through the thread pool, at most this many at a time: their completions would otherwise hold the loop in one pass. */
const STATS_IN_FLIGHT = 16;

/**
 * `stat` for a burst of `fromFile` calls (a directory's worth made at once). Through the thread
 * pool each call wakes a pool thread that takes the core from the main thread, and the completions
 * arrive in bursts; a synchronous stat of a file whose metadata is cached costs microseconds, like
 * the synchronous reads of small files. So the queue stats synchronously, in slices of the event
 * loop's time (a turn every millisecond), until stats are slow: from then on, as the file system
 * is one that makes the loop wait, they go through the pool, a few at a time. A file system that
 * does not answer at all holds the loop on its first stat, as it would a small file's read.
 */
export class StatQueue {
  /** Paths waiting for their stat and what to call with it, in pairs, oldest first from `next`: a queue that never shifts its array. */
  readonly #waiting: Array<string | StatDone | undefined> = [];
  #next = 0;
  #sliceScheduled = false;
  #viaPool = false;
  #lastSlow = false;
  #inFlight = 0;

  constructor(private readonly slowMs = SLOW_STAT_MS) {}

  /** `done` runs in a later turn of the event loop with this path's stat (or its failure). */
  stat(path: string, done: StatDone): void {
    this.#waiting.push(path, done);
    if (this.#viaPool) this.#startPooled();
    else if (!this.#sliceScheduled) {
      this.#sliceScheduled = true;
      setImmediate(() => this.#slice());
    }
  }

  #slice(): void {
    const turns = new LoopTurns();
    try {
      while (this.#next < this.#waiting.length && !turns.due && !this.#viaPool) {
        const [path, done] = this.#take();
        const started = performance.now();
        const [error, stats] = statOf(path);
        const slow = performance.now() - started > this.slowMs;
        this.#viaPool = slow && this.#lastSlow;
        this.#lastSlow = slow;
        done(error, stats);
      }
    } finally {
      // A callback that throws leaves the rest of the queue to the next turn, not stranded.
      this.#sliceScheduled = false;
      if (this.#viaPool) this.#startPooled();
      else if (this.#next < this.#waiting.length) {
        this.#sliceScheduled = true;
        setImmediate(() => this.#slice());
      } else this.#clear();
    }
  }

  #startPooled(): void {
    while (this.#inFlight < STATS_IN_FLIGHT && this.#next < this.#waiting.length) {
      const [path, done] = this.#take();
      this.#inFlight++;
      try {
        stat(path, (error, stats) => this.#answer(done, error, stats));
      } catch (error) {
        // A path fs refuses outright (a NUL byte in it): answered in a later turn like the rest.
        setImmediate(() => this.#answer(done, error as Error, undefined));
      }
    }
    if (this.#next === this.#waiting.length) this.#clear();
  }

  #answer(done: StatDone, error: Error | null, stats: Stats | undefined): void {
    this.#inFlight--;
    try {
      done(error, stats);
    } finally {
      this.#startPooled();
    }
  }

  #take(): [string, StatDone] {
    const waiting = this.#waiting;
    const taken: [string, StatDone] = [waiting[this.#next] as string, waiting[this.#next + 1] as StatDone];
    waiting[this.#next++] = undefined;
    waiting[this.#next++] = undefined;
    return taken;
  }

  #clear(): void {
    this.#waiting.length = 0;
    this.#next = 0;
  }
}

function statOf(path: string): [Error | null, Stats | undefined] {
  try {
    return [null, statSync(path)];
  } catch (error) {
    return [error as Error, undefined];
  }
}

const files = new StatQueue();

/** The process's queue of stats for `fromFile`. */
export function statFew(path: string, done: StatDone): void {
  files.stat(path, done);
}
