import { basename } from 'node:path';
import { escapeFilename, multipartEncode, MultipartParam } from '../index.js';
import { messageOf } from '../common/messages.js';
import { readLimited, readStream, TooLarge, type ReadOptions } from './bounded-read.js';
import { CliError } from './errors.js';
import type { FormArg } from './form-grammar.js';
import { STDIN, standardInput } from './stdin.js';

export interface ParamsOptions extends ReadOptions {
  /** Where `@-` and `<-` read from (default: the process's standard input, checked by standardInput()). */
  stdin?: () => NodeJS.ReadableStream;
}

/** A `;headers=@file` holds a few header lines: 64 KiB is plenty. */
const HEADERS_FILE_LIMIT = 64 * 1024;

const readsStdin = (arg: FormArg) => (arg.kind === 'file' || arg.kind === 'contents') && arg.value === STDIN;

/**
 * The params the arguments describe; files are only `stat`ed (a `<file` is read, as it is a text
 * value). `signal` bounds the reading of `<file` values (--timeout). The first failure stops every
 * other read: a FIFO nobody writes to must not keep the process alive after the error is reported.
 */
export async function toParams(args: readonly FormArg[], options: ParamsOptions = {}): Promise<MultipartParam[]> {
  const fromStdin = args.filter(readsStdin);
  if (fromStdin.length > 1)
    throw new CliError(
      'usage',
      `standard input can be read once, but ${fromStdin.map((arg) => `-F ${arg.name}=${arg.kind === 'file' ? '@' : '<'}-`).join(' and ')} both ask for it`,
    );
  const controller = new AbortController();
  const signal =
    options.signal === undefined ? controller.signal : AbortSignal.any([options.signal, controller.signal]);
  const reads = args.map((arg) =>
    toParam(arg, { ...options, signal }).catch((error: unknown) => {
      controller.abort(error);
      throw error;
    }),
  );
  // Every read has ended (the others told to stop) before the first failure is reported: nothing is left open.
  const results = await Promise.allSettled(reads);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw controller.signal.reason ?? failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<MultipartParam>).value);
}

async function toParam(arg: FormArg, options: ParamsOptions): Promise<MultipartParam> {
  const typed = arg.type === undefined ? {} : { filetype: arg.type };
  const named = arg.filename === undefined ? {} : { filename: arg.filename };
  const headers = arg.headers === undefined ? {} : { headers: await partHeaders(arg, options) };
  if (arg.kind === 'file' && arg.value === STDIN) {
    // As curl: the part's data is standard input, read to its end first (the encoder spools it) so its size is known.
    const fileobj = (options.stdin ?? standardInput)();
    return new MultipartParam(arg.name, { fileobj, filename: arg.filename ?? STDIN, ...typed, ...headers });
  }
  if (arg.kind === 'file') return MultipartParam.fromFile(arg.name, arg.value, { ...typed, ...named, ...headers });
  if (arg.kind === 'files') return new MultipartParam(arg.name, { value: await mixedFiles(arg.paths!), ...headers });
  const value =
    arg.kind === 'contents' ? await readValue(arg.value, `field ${JSON.stringify(arg.name)}`, options) : arg.value;
  return new MultipartParam(arg.name, { value, ...typed, ...named, ...headers });
}

/** As curl sends several files in one field: a multipart/mixed body, each file an attachment with its filename. */
async function mixedFiles(paths: readonly string[]) {
  const files = await Promise.all(
    paths.map((path) =>
      MultipartParam.fromFile(null, path, {
        headers: { 'Content-Disposition': `attachment; filename="${escapeFilename(basename(path))}"` },
      }),
    ),
  );
  return multipartEncode(files, { subtype: 'mixed' });
}

/**
 * `;headers=Name: value` lines and `;headers=@file` (or `<file`, as curl takes both) files: one
 * header a line, blank lines and `#` comments skipped. As pairs.
 */
async function partHeaders(arg: FormArg, options: ParamsOptions): Promise<Array<[string, string]>> {
  const lines: string[] = [];
  for (const header of arg.headers!) {
    if (header.startsWith('@') || header.startsWith('<')) lines.push(...(await headersFile(arg, header, options)));
    else lines.push(header);
  }
  return lines.map((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0)
      throw new CliError(
        'usage',
        `bad ;headers= for field ${JSON.stringify(arg.name)}: ${JSON.stringify(line)} is not 'Name: value'`,
      );
    return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
  });
}

async function headersFile(arg: FormArg, header: string, options: ParamsOptions): Promise<string[]> {
  const path = header.slice(1);
  if (path === STDIN)
    throw new CliError(
      'usage',
      `;headers=${header} for field ${JSON.stringify(arg.name)}: part headers come from a file, not standard input`,
    );
  const what = `the headers of field ${JSON.stringify(arg.name)}`;
  try {
    const text = (await readValue(path, what, { ...options, limit: HEADERS_FILE_LIMIT })).toString('utf8');
    return text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.startsWith('#'));
  } catch (error) {
    if (!(error instanceof CliError && error.cause instanceof TooLarge)) throw error;
    throw new CliError(
      'read',
      `${what}: ${JSON.stringify(path)} holds more than ${HEADERS_FILE_LIMIT / 1024} KiB, far more than header lines take`,
      error,
    );
  }
}

/** A file's bytes, or standard input's for `-`, within the limit; errors as CliErrors naming `what`. */
async function readValue(path: string, what: string, options: ParamsOptions): Promise<Buffer> {
  try {
    if (path !== STDIN) return await readLimited(path, options);
    const stdin = (options.stdin ?? standardInput)();
    return await readStream(stdin, 'standard input', { ...options, release: () => stdin.pause() });
  } catch (cause) {
    if (cause instanceof CliError) throw cause; // a timeout (the signal's reason), or standard input refused
    if (cause instanceof TooLarge) throw new CliError('read', `${what}: ${cause.message}`, cause);
    throw new CliError('read', `cannot read ${JSON.stringify(path)} for ${what}: ${messageOf(cause)}`, cause);
  }
}
