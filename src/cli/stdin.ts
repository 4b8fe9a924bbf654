import { fstatSync } from 'node:fs';
import { CliError } from './errors.js';

/** `@-`, `<-`, `-T -` and `--data-binary @-` read standard input, as in curl. */
export const STDIN = '-';

/**
 * Standard input, once it is known to hold data: a directory there (`< dir`) reads as empty,
 * and an empty body would replace an object with nothing (`-T -`), so it is refused as curl
 * refuses `--data-binary @-` from one (exit 26).
 */
export function standardInput(): NodeJS.ReadableStream {
  let directory = false;
  try {
    directory = fstatSync(0).isDirectory();
  } catch {
    // Node opens /dev/null in place of a closed descriptor 0: nothing to refuse.
  }
  if (directory) throw new CliError('read', 'standard input is a directory, not data to send');
  return process.stdin;
}
