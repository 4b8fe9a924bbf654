import { runDecode } from './decode.js';
import { classify, EXIT } from './errors.js';
import type { Io } from './io.js';
import { parseOptions } from './options.js';
import { send } from './send.js';
import { serve } from './serve.js';
import { runParts } from './parts.js';
import { exitOnSignals } from './signals.js';
import { USAGE } from './usage.js';
import { messageOf } from '../common/messages.js';
import { visibleLine } from '../common/visible.js';

declare const PACKAGE_VERSION: string;

/** Runs the command line and resolves to the exit code; errors are one line unless --verbose. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  // A command that reads its own arguments is dispatched by its name, the first argument; `serve`
  // shares the option spec of the upload command (args.ts) and is read with it.
  if (argv[0] === 'decode') {
    exitOnSignals(); // a part being written is removed, not left half written
    return runDecode(argv.slice(1), io);
  }
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
    exitOnSignals();
    return await send(options, io);
  } catch (error) {
    return report(error, verbose, io);
  }
}

function report(error: unknown, verbose: boolean, io: Io): number {
  const { kind, message } = classify(error);
  // A message may quote what a server sent (a status text, a Location, an answer's first line).
  io.stderr.write(`multipart-poster: ${visibleLine(message)}\n`);
  if (kind === 'usage') io.stderr.write('Try multipart-poster --help\n');
  if (verbose) {
    for (let cause = error; cause instanceof Error; cause = cause.cause)
      if (cause.stack) io.stderr.write(`${cause === error ? '' : 'caused by: '}${visibleStack(cause.stack)}\n`);
  }
  return EXIT[kind];
}

/** A stack's lines, each one's control characters escaped (its message may quote a server). */
function visibleStack(stack: string): string {
  return stack.split('\n').map(visibleLine).join('\n');
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
      process.stderr.write(`multipart-poster: ${messageOf(error)}\n`);
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
