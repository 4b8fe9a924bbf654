import { classify, EXIT } from './errors.js';
import { parseOptions, USAGE } from './options.js';
import { send, type Io } from './send.js';
import { serve } from './serve.js';
import { runParts } from './parts.js';

declare const PACKAGE_VERSION: string;

/** Runs the command line and resolves to the exit code; errors are one line unless --verbose. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let verbose = argv.includes('-v') || argv.includes('--verbose');
  try {
    const options = parseOptions(argv);
    if (options.command === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    if (options.command === 'version') {
      io.stdout.write(`${PACKAGE_VERSION}\n`);
      return EXIT.ok;
    }
    verbose = options.verbose;
    if (options.command === 'serve') return await serve(options, io);
    if (options.command === 'parts') return await runParts(options, io);
    // Killed by a signal, the process still runs its exit handlers: a spooled standard input is removed.
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
      ['SIGHUP', 129],
    ] as const)
      process.once(signal, () => process.exit(code));
    return await send(options, io);
  } catch (error) {
    const { kind, message } = classify(error);
    io.stderr.write(`multipart-poster: ${message}\n`);
    if (kind === 'usage') io.stderr.write('Try multipart-poster --help\n');
    if (verbose && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return EXIT[kind];
  }
}

let settled = false;
main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr })
  .then(
    (code) => {
      settled = true;
      process.exitCode = code;
    },
    (error: unknown) => {
      settled = true;
      process.stderr.write(`multipart-poster: ${String(error)}\n`);
      process.exitCode = EXIT.failure;
    },
  )
  // A standard input given up on (--timeout) would keep the process waiting for its end.
  .finally(() => process.stdin.destroy());
// Node exits, with code 0, once nothing is left to wait for, even if the command never
// finished: a connection dropped without an answer or an error reaching the code
// waiting on it. That must never pass for success.
process.once('beforeExit', () => {
  if (settled) return;
  process.stderr.write(
    'multipart-poster: the exchange ended with neither an answer nor an error (nothing was left to wait for)\n',
  );
  process.exitCode = EXIT.failure;
});
