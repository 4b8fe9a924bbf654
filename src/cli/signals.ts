/** The exit code of a process ended by each signal, as a shell reports it (128 + the signal's number). */
export const SIGNAL_EXITS = [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const;

const cleanups = new Set<() => void>();

/** Runs `cleanup` if a signal ends the process (the progress line is ended); returns its removal. */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/**
 * Ends the process on SIGINT, SIGTERM and SIGHUP with the shell's code, after the cleanups. Exiting
 * this way still runs the process's exit handlers: a spooled standard input is removed.
 */
export function exitOnSignals(): void {
  for (const [signal, code] of SIGNAL_EXITS)
    process.once(signal, () => {
      for (const cleanup of cleanups) {
        try {
          cleanup();
        } catch {
          // the process ends anyway
        }
      }
      process.exit(code);
    });
}
