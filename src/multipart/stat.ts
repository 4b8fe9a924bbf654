import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';

/**
 * At most this many `stat` calls in flight. A directory's worth of `fromFile` calls made at once
 * (`Promise.all(paths.map(...))`) would otherwise complete in one pass of the event loop and hold
 * it for tens of milliseconds; in groups this size the loop turns between them.
 */
const STATS_IN_FLIGHT = 16;
let statsInFlight = 0;
const waitingForStat: Array<() => void> = [];

/** `stat`, a few at a time. */
export async function statFew(path: string): Promise<Stats> {
  if (statsInFlight >= STATS_IN_FLIGHT) await new Promise<void>((resolve) => waitingForStat.push(resolve));
  statsInFlight++;
  try {
    return await stat(path);
  } finally {
    statsInFlight--;
    waitingForStat.shift()?.();
  }
}
