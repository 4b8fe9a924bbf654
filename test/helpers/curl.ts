import { runProgram, type CliResult, type RunOptions } from './cli.js';

/** Runs `curl` (interop tests only: it must be installed) to completion; errors and warnings on stderr, no progress meter. */
export function runCurl(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return runProgram('curl', ['--no-progress-meter', ...args], options);
}
