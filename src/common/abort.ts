/**
 * One 'abort' listener per caller's AbortSignal, however many uploads share it.
 *
 * A handler is held strongly while its work runs, so that an abort (or a timeout folded into the
 * same signal) reaches work that nothing else holds: a spool waiting on a stream that never yields
 * again, a piece waiting on a caller's promise that never settles. Once an upload's answer is
 * handed over, its handler is held weakly instead (`weakly`), by the hub, and strongly by the upload
 * (and its Response): an upload whose Response is dropped unread adds nothing that stays on the
 * caller's signal.
 */
type Entry = (() => void) | WeakRef<() => void>;

const handlers = new WeakMap<AbortSignal, Set<Entry>>();
const forget = new FinalizationRegistry<{ set: Set<Entry>; ref: WeakRef<() => void> }>(({ set, ref }) =>
  set.delete(ref),
);

/** Calls `handler` when `signal` aborts; the returned function unsubscribes. */
export function onAbort(signal: AbortSignal, handler: () => void, options: { weakly?: boolean } = {}): () => void {
  let set = handlers.get(signal);
  if (set === undefined) {
    const live = new Set<Entry>();
    handlers.set(signal, live);
    signal.addEventListener(
      'abort',
      () => {
        for (const entry of live) (typeof entry === 'function' ? entry : entry.deref())?.();
        live.clear();
      },
      { once: true },
    );
    set = live;
  }
  const subscribed = set;
  if (!options.weakly) {
    subscribed.add(handler);
    return () => void subscribed.delete(handler);
  }
  const ref = new WeakRef(handler);
  subscribed.add(ref);
  forget.register(handler, { set: subscribed, ref }, ref);
  return () => {
    subscribed.delete(ref);
    forget.unregister(ref);
  };
}
