import { close, constants, fstat, open, read } from 'node:fs';
import { Socket } from 'node:net';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { escapeFilename, multipartEncode, MultipartParam } from '../index.js';
import { CliError } from './errors.js';

/** One `-F` (or `--form-string`) argument, parsed with curl's grammar. */
export interface FormArg {
  name: string;
  /**
   * `text`: name=value; `file`: name=@path; `files`: name=@a,b (several files, sent as a nested
   * multipart/mixed as curl does); `contents`: name=<path (a text field holding the file's bytes).
   */
  kind: 'text' | 'file' | 'files' | 'contents';
  /** The text, or the path (for `files`, the first path). */
  value: string;
  /** For `files`: every path. */
  paths?: string[];
  type?: string;
  filename?: string;
  /** From `;headers=`: a `Name: value` line, or `@file` of such lines. */
  headers?: string[];
}

const KNOWN_PARAMS = /^(type|filename|headers)=/i;

/**
 * Parses `name=value`, `name=@path[;type=T][;filename=F]`, `name=@a,b` and `name=<path[;type=T]`,
 * each with any number of `;headers=Name: value` or `;headers=@file`. A value may be
 * double-quoted (`"a;b"`, with `\"` and `\\` escapes) to hold a `;` (or, in a list of files, a
 * `,`). Only `;type=`, `;filename=` and `;headers=` start a parameter; any other `;` is part of the value.
 */
export function parseFormArg(spec: string): FormArg {
  const eq = spec.indexOf('=');
  if (eq <= 0)
    throw new CliError('usage', `bad -F ${JSON.stringify(spec)}: expected name=value, name=@file or name=<file`);
  const name = spec.slice(0, eq);
  let rest = spec.slice(eq + 1);
  let kind: FormArg['kind'] = 'text';
  if (rest.startsWith('@')) kind = 'file';
  else if (rest.startsWith('<')) kind = 'contents';
  if (kind !== 'text') rest = rest.slice(1);

  const paths = kind === 'file' ? splitFiles(rest, spec) : undefined;
  const [value, params] = paths === undefined ? splitValue(rest, spec) : ['', paths.params];
  const arg: FormArg = { name, kind, value };
  if (paths !== undefined) {
    arg.value = paths.files[0] ?? '';
    if (paths.files.length > 1) Object.assign(arg, { kind: 'files', paths: paths.files });
  }
  for (const param of params) {
    const [key, raw] = [param.slice(0, param.indexOf('=')).toLowerCase(), param.slice(param.indexOf('=') + 1)];
    const unquoted = raw.startsWith('"') ? splitValue(raw, spec)[0] : raw;
    if (key === 'type') arg.type = unquoted;
    else if (key === 'filename') arg.filename = unquoted;
    else (arg.headers ??= []).push(unquoted);
  }
  if ((kind === 'file' || kind === 'contents') && (arg.value === '' || arg.paths?.includes(''))) {
    throw new CliError('usage', `bad -F ${JSON.stringify(spec)}: no file named after ${kind === 'file' ? '@' : '<'}`);
  }
  if (arg.kind === 'files' && (arg.type !== undefined || arg.filename !== undefined)) {
    throw new CliError(
      'usage',
      `bad -F ${JSON.stringify(spec)}: ;type= and ;filename= name one file; with several files each gets its own name and guessed type`,
    );
  }
  return arg;
}

/** `--form-string name=value`: the value exactly as given, no `@`, `<` or `;` parameters. */
export function parseFormString(spec: string): FormArg {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new CliError('usage', `bad --form-string ${JSON.stringify(spec)}: expected name=value`);
  return { name: spec.slice(0, eq), kind: 'text', value: spec.slice(eq + 1) };
}

/**
 * The paths after `@`: one, or several separated by commas (curl's `-F f=@a,b`), each of which may
 * be double-quoted to hold a `,` or `;`; then the parameters.
 */
function splitFiles(text: string, spec: string): { files: string[]; params: string[] } {
  const files: string[] = [];
  let i = 0;
  for (;;) {
    let file = '';
    if (text[i] === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        file += text[i];
      }
      if (i >= text.length) throw new CliError('usage', `bad -F ${JSON.stringify(spec)}: unterminated quote`);
      i++;
    } else {
      for (; i < text.length && text[i] !== ',' && !(text[i] === ';' && KNOWN_PARAMS.test(text.slice(i + 1))); i++)
        file += text[i];
    }
    files.push(file);
    if (text[i] !== ',') break;
    i++;
  }
  if (i < text.length && text[i] !== ';')
    throw new CliError('usage', `bad -F ${JSON.stringify(spec)}: text after the closing quote`);
  return { files, params: splitValue(`""${text.slice(i)}`, spec)[1] };
}

/** Splits a value (quoted or not) from the `;type=`/`;filename=` parameters after it. */
function splitValue(text: string, spec: string): [string, string[]] {
  let value = '';
  let i = 0;
  if (text.startsWith('"')) {
    for (i = 1; i < text.length && text[i] !== '"'; i++) {
      if (text[i] === '\\' && i + 1 < text.length) i++;
      value += text[i];
    }
    if (i >= text.length) throw new CliError('usage', `bad -F ${JSON.stringify(spec)}: unterminated quote`);
    i++;
    if (i < text.length && text[i] !== ';')
      throw new CliError('usage', `bad -F ${JSON.stringify(spec)}: text after the closing quote`);
  } else {
    for (; i < text.length; i++) {
      if (text[i] === ';' && KNOWN_PARAMS.test(text.slice(i + 1))) break;
      value += text[i];
    }
  }
  const params: string[] = [];
  while (i < text.length) {
    // text[i] is ';' here; a parameter runs to the next ';' that starts another known one
    let end = i + 1;
    if (text[end] !== undefined && text.slice(end).match(/^(type|filename|headers)="/i)) {
      const open = text.indexOf('"', end);
      let close = open + 1;
      for (; close < text.length && text[close] !== '"'; close++) if (text[close] === '\\') close++;
      end = close + 1;
    } else {
      while (end < text.length && !(text[end] === ';' && KNOWN_PARAMS.test(text.slice(end + 1)))) end++;
    }
    const param = text.slice(i + 1, end);
    if (!KNOWN_PARAMS.test(param))
      throw new CliError('usage', `bad -F ${JSON.stringify(spec)}: unknown parameter ${JSON.stringify(param)}`);
    params.push(param);
    i = end;
  }
  return [value, params];
}

/**
 * The most a `name=<file` value may hold: 16 MiB. Such a value is a text field,
 * read whole into memory before anything is sent (curl reads it whole too), so
 * without a limit `<` `/dev/zero` grows until memory runs out. 16 MiB is far
 * beyond any text a form field carries (HTML forms post a few KiB, servers cap
 * fields at 1 MiB or less) yet small enough that a few of them cost nothing;
 * anything larger is a file and belongs in `name=@file`, which is streamed.
 */
export const CONTENTS_LIMIT = 16 * 1024 * 1024;

const openFd = promisify(open);
const fstatFd = promisify(fstat);
const readFd = promisify(read);
const closeFd = promisify(close);
const READ_SIZE = 64 * 1024;

export interface ReadOptions {
  /** Most bytes accepted (default CONTENTS_LIMIT). */
  limit?: number;
  /** Stops the read (a FIFO nobody writes to, say) with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Reads a file, a device, a FIFO or a pipe (`<(command)`) whole, but never more
 * than `limit` bytes: it fails past them, having read at most `limit + 1` bytes
 * of a file or device. Throws the fs error (ENOENT, EISDIR...) as it comes.
 */
export async function readLimited(path: string, options: ReadOptions = {}): Promise<Buffer> {
  const { limit = CONTENTS_LIMIT, signal } = options;
  signal?.throwIfAborted();
  // O_NONBLOCK: opening a FIFO does not wait for a writer here (a read does, below, where a signal can end the wait).
  let fd = await openFd(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await fstatFd(fd);
    if (stat.isFIFO() || stat.isSocket()) {
      const owned = fd;
      fd = -1; // the pipe handle owns it now, and closes it
      return await readPipe(owned, path, limit, signal);
    }
    if (stat.isFile() && stat.size > limit) throw tooLarge(path, limit);
    if (!stat.isFile()) {
      // A device: read it blocking (a terminal without O_NONBLOCK waits for input instead of failing with EAGAIN).
      await closeFd(fd);
      fd = -1;
      fd = await openFd(path, constants.O_RDONLY);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      signal?.throwIfAborted();
      const buffer = Buffer.allocUnsafe(Math.min(READ_SIZE, limit + 1 - total));
      const { bytesRead } = await readFd(fd, buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
      if (total > limit) throw tooLarge(path, limit);
    }
    return Buffer.concat(chunks, total);
  } finally {
    if (fd >= 0) await closeFd(fd).catch(() => {});
  }
}

/**
 * A FIFO or socket, read through a libuv pipe handle: the wait for data happens in
 * the event loop, not in a blocked thread, so an abort ends it and the process can
 * exit. A read may take up to 64 KiB past the limit from the pipe; it is dropped.
 */
function readPipe(fd: number, path: string, limit: number, signal: AbortSignal | undefined): Promise<Buffer> {
  const socket = new Socket({ fd, readable: true, writable: false });
  return readStream(socket, path, limit, signal, () => socket.destroy());
}

/**
 * A stream (a pipe's socket, standard input) read to its end, never past `limit` bytes (a
 * TooLarge then), nor past `signal` (its reason); `release` lets go of the stream either way.
 */
function readStream(
  stream: NodeJS.ReadableStream,
  what: string,
  limit: number,
  signal: AbortSignal | undefined,
  release: () => void,
): Promise<Buffer> {
  signal?.throwIfAborted();
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = (error: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      stream.removeListener('data', onData);
      release();
      if (error === undefined) resolve(Buffer.concat(chunks, total));
      else reject(error);
    };
    const onAbort = () => finish(signal!.reason);
    const onData = (chunk: Buffer) => {
      if (total + chunk.length > limit) return finish(tooLarge(what, limit));
      chunks.push(chunk);
      total += chunk.length;
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onData);
    stream.once('end', () => finish(undefined));
    stream.once('error', (error) => finish(error));
  });
}

class TooLarge extends Error {
  override name = 'TooLarge';
}

function tooLarge(path: string, limit: number): TooLarge {
  const size = limit % (1024 * 1024) === 0 ? `${limit / (1024 * 1024)} MiB` : `${limit} bytes`;
  return new TooLarge(
    `${JSON.stringify(path)} holds more than ${size}, the most a text field read with < may hold; send it as a file with @ instead`,
  );
}

/**
 * The params the arguments describe; files are only `stat`ed (a `<file` is read,
 * as it is a text value). `signal` bounds the reading of `<file` values (--timeout).
 */
/** `@-` and `<-` read standard input, as in curl. */
export const STDIN = '-';

export async function toParams(
  args: readonly FormArg[],
  options: ReadOptions & { stdin?: NodeJS.ReadableStream } = {},
): Promise<MultipartParam[]> {
  const fromStdin = args.filter((arg) => (arg.kind === 'file' || arg.kind === 'contents') && arg.value === STDIN);
  if (fromStdin.length > 1)
    throw new CliError(
      'usage',
      `standard input can be read once, but ${fromStdin.map((arg) => `-F ${arg.name}=${arg.kind === 'file' ? '@' : '<'}-`).join(' and ')} both ask for it`,
    );
  return Promise.all(
    args.map(async (arg) => {
      const typed = arg.type === undefined ? {} : { filetype: arg.type };
      const named = arg.filename === undefined ? {} : { filename: arg.filename };
      const headers = arg.headers === undefined ? {} : { headers: await partHeaders(arg, options) };
      if (arg.kind === 'file' && arg.value === STDIN) {
        // As curl: the part's data is standard input, read to its end first (the encoder spools it) so its size is known.
        return new MultipartParam(arg.name, {
          fileobj: options.stdin ?? process.stdin,
          filename: arg.filename ?? STDIN,
          ...typed,
          ...headers,
        });
      }
      if (arg.kind === 'file') return MultipartParam.fromFile(arg.name, arg.value, { ...typed, ...named, ...headers });
      if (arg.kind === 'files') {
        // As curl sends them: a multipart/mixed body in the field, each file an attachment with its filename.
        const files = await Promise.all(
          arg.paths!.map((path) =>
            MultipartParam.fromFile(null, path, {
              headers: { 'Content-Disposition': `attachment; filename="${escapeFilename(basename(path))}"` },
            }),
          ),
        );
        return new MultipartParam(arg.name, { value: await multipartEncode(files, { subtype: 'mixed' }), ...headers });
      }
      if (arg.kind === 'contents') {
        const value = await readValue(arg.value, `field ${JSON.stringify(arg.name)}`, options);
        return new MultipartParam(arg.name, { value, ...typed, ...named, ...headers });
      }
      return new MultipartParam(arg.name, { value: arg.value, ...typed, ...named, ...headers });
    }),
  );
}

/** `;headers=Name: value` lines and `;headers=@file` files (one header a line; blank lines and `#` comments skipped), as pairs. */
async function partHeaders(arg: FormArg, options: ReadOptions): Promise<Array<[string, string]>> {
  const lines: string[] = [];
  for (const header of arg.headers!) {
    if (!header.startsWith('@')) {
      lines.push(header);
      continue;
    }
    if (header === `@${STDIN}`)
      throw new CliError(
        'usage',
        `;headers=@- for field ${JSON.stringify(arg.name)}: part headers come from a file, not standard input`,
      );
    const what = `the headers of field ${JSON.stringify(arg.name)}`;
    const text = (
      await readValue(header.slice(1), what, { ...options, limit: HEADERS_FILE_LIMIT }).catch((error: unknown) => {
        if (error instanceof CliError && error.cause instanceof TooLarge) {
          throw new CliError(
            'read',
            `${what}: ${JSON.stringify(header.slice(1))} holds more than ${HEADERS_FILE_LIMIT / 1024} KiB, far more than header lines take`,
            error,
          );
        }
        throw error;
      })
    ).toString('utf8');
    lines.push(...text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.startsWith('#')));
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

/** A `;headers=@file` holds a few header lines: 64 KiB is plenty. */
const HEADERS_FILE_LIMIT = 64 * 1024;

/** A file's bytes, or standard input's for `-`, within the limit; errors as CliErrors naming `what`. */
async function readValue(
  path: string,
  what: string,
  options: ReadOptions & { stdin?: NodeJS.ReadableStream },
): Promise<Buffer> {
  try {
    if (path !== STDIN) return await readLimited(path, options);
    const stdin = options.stdin ?? process.stdin;
    return await readStream(stdin, 'standard input', options.limit ?? CONTENTS_LIMIT, options.signal, () =>
      stdin.pause(),
    );
  } catch (cause) {
    if (cause instanceof CliError) throw cause; // a timeout, as the signal's reason
    if (cause instanceof TooLarge) throw new CliError('read', `${what}: ${cause.message}`, cause);
    throw new CliError('read', `cannot read ${JSON.stringify(path)} for ${what}: ${(cause as Error).message}`, cause);
  }
}
