import { unlinkSync } from 'node:fs';
import { unlink } from 'node:fs/promises';

/**
 * The temporary files of spooled streams, until they are removed: by `dispose()`, when nothing
 * refers to the file's source any more (garbage collection), when the process exits, or when it is
 * killed by SIGTERM, SIGINT or SIGHUP while no one else handles that signal.
 */
const live = new Set<string>();

/**
 * Files a Blob was made of (`toBlob()`): Blobs made from that one (a slice, a `File`, FormData's
 * copy) read the file by its path, and their lives cannot be followed, so these files stay until
 * `dispose()` or the process's end.
 */
const inBlobs = new Set<string>();

/** A spool file goes when its source is collected: a body nested in another keeps it as long as the outer one lives. */
const collected = new FinalizationRegistry<string>((path) => {
  if (!inBlobs.has(path)) void removeSpooled([path]);
});

/**
 * Marks every copy's signal listener (the ESM and CommonJS builds, two installed versions): none
 * of them is the application's own handler, whose presence leaves the process to it.
 */
const SPOOL_LISTENER = Symbol.for('multipart-poster.spoolSignalListener');

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
let hooked = false;

/** Tracks a new spool file; `owner` is the object whose life the file follows. */
export function trackSpoolFile(path: string, owner?: object): void {
  live.add(path);
  if (owner !== undefined) collected.register(owner, path);
  if (!hooked) hook();
}

/** A Blob is made of these files: those that are spool files are no longer removed when their source is collected. Returns them. */
export function keepForBlobs(paths: readonly string[]): string[] {
  const kept = paths.filter((path) => live.has(path));
  for (const path of kept) inBlobs.add(path);
  return kept;
}

/** Removes spool files, once each; never throws. */
export async function removeSpooled(paths: readonly string[]): Promise<void> {
  await Promise.all(
    paths.map(async (path) => {
      inBlobs.delete(path);
      if (!live.delete(path)) return;
      if (live.size === 0) unhook();
      await unlink(path).catch(() => {});
    }),
  );
}

/** How many spool files this process has not removed yet. */
export function spoolFilesLeft(): number {
  return live.size;
}

function removeAllNow(): void {
  for (const path of live) {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
  live.clear();
  inBlobs.clear();
}

/**
 * A signal that would kill the process (no one else listens to it): the files are removed first,
 * then the signal is raised again with our listeners gone, so the process ends as it would have.
 * When the application has its own handler, the process is its to end: the 'exit' hook cleans up.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listeners(signal).some((listener) => !(SPOOL_LISTENER in listener))) return;
  removeAllNow();
  unhook();
  process.kill(process.pid, signal);
}
Object.defineProperty(onSignal, SPOOL_LISTENER, { value: true });

function hook(): void {
  hooked = true;
  process.on('exit', removeAllNow);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

/** Listeners only while files exist: a process that spools nothing keeps Node's own signal behaviour. */
function unhook(): void {
  if (!hooked) return;
  hooked = false;
  process.off('exit', removeAllNow);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}
