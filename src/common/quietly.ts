/** How long a cleanup of the caller's (an iterator's `return()`) is waited for (as long as a request waits for its body to let go). */
const CLEANUP_GRACE_MS = 250;

/**
 * Runs a caller's cleanup and waits for it, whatever it does: throws, rejects, gives no promise,
 * or gives one that never settles (waited for CLEANUP_GRACE_MS, then left to settle on its own).
 * What the cleanup says is not ours to report: the caller's source is left either way.
 */
export async function quietly(cleanup: () => unknown): Promise<void> {
  let returned: unknown;
  try {
    returned = cleanup();
  } catch {
    return;
  }
  if (returned === undefined || returned === null) return;
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLEANUP_GRACE_MS)));
  const settled = Promise.resolve(returned).then(
    () => {},
    () => {},
  );
  await Promise.race([settled, graceOver]);
  clearTimeout(timer);
}
