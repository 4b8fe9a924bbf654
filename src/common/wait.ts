import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Ends the wait early: the promise rejects with the signal's own reason. */
  signal?: AbortSignal | undefined;
  /**
   * false: the wait alone does not keep the process alive (a grace period nobody must wait out).
   * Default true: a wait someone is waiting for holds the event loop, so a timeout always fires.
   */
  ref?: boolean;
}

/**
 * The one abortable wait: `ms` milliseconds, or until `signal` aborts, whichever comes first.
 * Rejects with the signal's reason (not node:timers' AbortError), so a caller sees the error
 * the abort was made with (ERR_TIMEOUT, ERR_ABORTED...).
 */
export async function wait(ms: number, options: WaitOptions = {}): Promise<void> {
  const { signal, ref = true } = options;
  signal?.throwIfAborted();
  try {
    await sleep(ms, undefined, { ref, ...(signal === undefined ? {} : { signal }) });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}
