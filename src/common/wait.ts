import { onAbort } from './abort.js';

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
  await new Promise<void>((resolve, reject) => {
    // Through the hub, as raceAbort: many lanes may wait on one signal at once.
    const unsubscribe =
      signal === undefined
        ? undefined
        : onAbort(signal, () => {
            clearTimeout(timer);
            reject(signal.reason as Error);
          });
    const timer = setTimeout(() => {
      unsubscribe?.();
      resolve();
    }, ms);
    if (!ref) timer.unref();
  });
}

/**
 * `promise`, or the signal's reason as soon as it aborts, whichever comes first; the listener is
 * removed either way. For a read that may never settle (a stream that never yields again): the
 * caller is released, while the read itself is left to the caller to cancel.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {}); // settled later, nobody is waiting for it any more
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    // Through the hub: the pieces of an upload race their callers' promises on one signal, 64 at once.
    const unsubscribe = onAbort(signal, () => {
      promise.catch(() => {});
      reject(signal.reason as Error);
    });
    promise.then(
      (value) => {
        unsubscribe();
        resolve(value);
      },
      (error: unknown) => {
        unsubscribe();
        reject(error as Error);
      },
    );
  });
}
