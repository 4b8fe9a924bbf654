import { statSync } from 'node:fs';
import { encodeBody } from './body.js';
import { CliError, EXIT } from './errors.js';
import { headerLines, Output, type Io } from './io.js';
import type { SendOptions } from './options.js';
import { STDIN } from './stdin.js';

/** The files read while the body is written out: `@` files and the --data-binary/-T file (not `<` files, read before). */
function streamedInputs(options: SendOptions): string[] {
  const files = options.form.flatMap((arg) =>
    arg.kind === 'file' ? [arg.value] : arg.kind === 'files' ? (arg.paths ?? []) : [],
  );
  if (options.dataBinary !== undefined) files.push(options.dataBinary);
  return files.filter((path) => path !== STDIN);
}

const identity = (path: string) => {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat === undefined ? undefined : `${stat.dev}:${stat.ino}`;
};

/**
 * --dry-run -o FILE where FILE is also an input: opening it for writing empties it before the body
 * (which holds it) is read, so the body would not be what its Content-Length says. Refused before
 * anything is opened. (When sending, the answer is written only after the body has been sent, as curl does.)
 */
function checkOutputIsNoInput(options: SendOptions): void {
  if (options.output === undefined || options.output === '-') return;
  const output = identity(options.output);
  if (output === undefined) return;
  const same = streamedInputs(options).find((path) => identity(path) === output);
  if (same !== undefined)
    throw new CliError(
      'usage',
      `-o ${JSON.stringify(options.output)} is also an input (${JSON.stringify(same)}): writing the body there would empty it before it is read`,
    );
}

/** --dry-run: the request's headers to stderr, its body to stdout or -o; nothing is sent. */
export async function dryRun(options: SendOptions, io: Io): Promise<number> {
  checkOutputIsNoInput(options);
  const encoded = await encodeBody(options);
  io.stderr.write(headerLines(Object.entries(encoded.headers)));
  const output = new Output(options.output, io);
  await output.copy(encoded.body);
  await output.close();
  return EXIT.ok;
}
