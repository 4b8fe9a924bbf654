/**
 * What a caller's callback returned, looked at once: a promise (an `async` callback cannot throw,
 * it rejects after its call) is watched, and its rejection handed to `rejected` — the same failure
 * as a throw, arriving later — so that it is never an unhandled rejection that ends the process.
 * `rejected` decides whether it still fails anything. A `then` that throws is a rejection too.
 * Callers on a hot path (progress, once a block) make `rejected` once, not at every call: a
 * synchronous callback then costs nothing here but a `typeof`.
 */
export function watchRejection(result: unknown, rejected: (cause: unknown) => void): void {
  if (result === null || (typeof result !== 'object' && typeof result !== 'function')) return;
  Promise.resolve(result).then(undefined, (cause: unknown) => {
    try {
      rejected(cause);
    } catch {
      // `rejected` is ours and does not throw; should it, nothing may end the process here.
    }
  });
}
