/**
 * One 'abort' listener per caller's AbortSignal, however many uploads share it.
 * Each upload's handler is held weakly here and strongly by the upload (and its
 * Response): an upload whose Response is dropped unread adds nothing that stays
 * on the caller's signal.
 */
const handlers = new WeakMap<AbortSignal, Set<WeakRef<() => void>>>();
const forget = new FinalizationRegistry<{ set: Set<WeakRef<() => void>>; ref: WeakRef<() => void> }>(({ set, ref }) =>
  set.delete(ref),
);

/** Calls `handler` when `signal` aborts; the returned function unsubscribes. */
export function onAbort(signal: AbortSignal, handler: () => void): () => void {
  let set = handlers.get(signal);
  if (set === undefined) {
    const live = new Set<WeakRef<() => void>>();
    handlers.set(signal, live);
    signal.addEventListener(
      'abort',
      () => {
        for (const ref of live) ref.deref()?.();
        live.clear();
      },
      { once: true },
    );
    set = live;
  }
  const ref = new WeakRef(handler);
  set.add(ref);
  forget.register(handler, { set, ref }, ref);
  const subscribed = set;
  return () => {
    subscribed.delete(ref);
    forget.unregister(ref);
  };
}
