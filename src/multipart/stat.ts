import { stat, type Stats } from 'node:fs';

/**
 * At most this many `stat` calls in flight. A directory's worth of `fromFile` calls made at once
 * (`Promise.all(paths.map(...))`) would otherwise complete in one pass of the event loop and hold
 * it for tens of milliseconds; in groups this size the loop turns between them.
 */
const STATS_IN_FLIGHT = 16;

type StatDone = (error: Error | null, stats: Stats | undefined) => void;

/** Paths waiting for a free slot and what to call with their stat, in pairs, oldest first from `next`: a queue that never shifts its array. */
const waiting: Array<string | StatDone | undefined> = [];
let next = 0;
let inFlight = 0;

/**
 * `stat`, a few at a time: `done` runs when this path's turn has come and its stat completed. A
 * callback rather than a promise: a completion is one callback, not a chain of promise turns.
 */
export function statFew(path: string, done: StatDone): void {
  waiting.push(path, done);
  startWaiting();
}

function startWaiting(): void {
  while (inFlight < STATS_IN_FLIGHT && next < waiting.length) {
    const path = waiting[next] as string;
    const done = waiting[next + 1] as StatDone;
    waiting[next++] = undefined;
    waiting[next++] = undefined;
    inFlight++;
    stat(path, (error, stats) => {
      inFlight--;
      try {
        done(error, stats);
      } finally {
        startWaiting();
      }
    });
  }
  if (next === waiting.length) {
    waiting.length = 0;
    next = 0;
  }
}
