/**
 * Runs a caller's callback for its effect. What it throws comes back to our caller as it is; what
 * it returns is looked at once: a promise (an `async` callback cannot throw, it rejects) is watched,
 * and its rejection handed to `rejected` — the same failure, arriving later — so that it is never
 * an unhandled rejection that ends the process. `rejected` decides whether it still fails anything.
 */
export function callBack<Args extends unknown[]>(
  callback: (...args: Args) => unknown,
  args: Args,
  rejected: (cause: unknown) => void,
): void {
  watchRejection(callback(...args), rejected);
}

/** Hands a rejection of `result`, when it is a promise or any thenable, to `rejected`; a `then` that throws is a rejection too. */
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
