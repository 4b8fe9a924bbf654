import { fchmodSync, lstatSync, openSync, rmSync, statSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { encodeBody } from './body.js';
import { CliError, EXIT } from './errors.js';
import { headerLines, Output, type Io } from './io.js';
import type { SendOptions } from './options.js';
import { onInterrupt } from './signals.js';
import { messageOf } from '../common/messages.js';
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
  const path = options.output;
  const existing = path === undefined || path === '-' ? undefined : lstatSync(path, { throwIfNoEntry: false });
  if (path === undefined || path === '-' || (existing !== undefined && !existing.isFile())) {
    // Standard output, or a FILE that is not a regular file of its own (a link, a FIFO, a device
    // such as /dev/null): written into, as curl writes, never replaced.
    const output = new Output(path, io);
    await output.copy(encoded.body);
    await output.close();
  } else await writeWhole(path, existing?.mode, encoded.body, io);
  return EXIT.ok;
}

/**
 * The body to a regular FILE (or a new one) only once it is whole: an encoding that fails midway (a
 * file that changed, a --boundary found in the data) would leave FILE half written, a body that
 * looks like one. It goes to a hidden temporary file beside FILE (the same file system), with
 * FILE's permissions, renamed over FILE at the end and removed on a failure or a signal, so FILE is
 * either the whole body or what it was before.
 */
async function writeWhole(
  path: string,
  mode: number | undefined,
  body: AsyncIterable<Uint8Array>,
  io: Io,
): Promise<void> {
  const partial = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
  let made = false;
  const remove = () => made && rmSync(partial, { force: true });
  // Registered before the file is made, and the file made synchronously: a signal always finds it.
  const forget = onInterrupt(remove);
  // Node's message names the temporary file (", open '.../.out.bin.123.partial'"): FILE is named instead.
  const fail = (error: unknown) =>
    new CliError('write', `cannot write ${path}: ${messageOf(error).replace(/, (open|rename) '.*$/s, '')}`, error);
  try {
    // New (wx): never a file or a link already there, which would then be removed or written through.
    const fd = openSync(partial, 'wx');
    made = true;
    if (mode !== undefined) fchmodSync(fd, mode & 0o7777); // a private FILE stays private
    const output = new Output(partial, io, { shownAs: path, fd });
    await output.copy(body);
    await output.close();
    await rename(partial, path).catch((error: unknown) => {
      throw fail(error);
    });
  } catch (error) {
    remove();
    throw made ? error : fail(error);
  } finally {
    forget();
  }
}
