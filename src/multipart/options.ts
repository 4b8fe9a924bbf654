import type { MultipartParam } from './param.js';
import type { SpoolOptions } from './spool.js';
import { DEFAULT_BLOCK_SIZE, DEFAULT_SYNC_READ_LIMIT, type StreamSettings } from './stream.js';
import type { HeaderLine } from './wire.js';
import {
  checkFunction,
  checkByteCount,
  checkInteger,
  checkSignal,
  describe,
  encodeOptionError,
  TOKEN,
  type OptionRegistry,
} from '../common/validate.js';

/** Progress of a whole body; `param` is the top-level part the last consumed byte belongs to (undefined for an empty form). */
export type BodyProgressCallback = (
  param: MultipartParam | undefined,
  current: number,
  total: number | undefined,
) => void;

/** How a file is read: shared by `multipartEncode`, `rawBody` and `upload`. */
export interface ReadOptions {
  /** Bytes read from a file at a time (default 1 MiB). */
  blockSize?: number;
  /**
   * Files smaller than this many bytes (default 64 KiB) are read whole with one
   * synchronous open/read/close: ten times cheaper than three thread-pool round
   * trips, blocking the event loop for one small read at a time. 0 reads every file asynchronously.
   */
  syncReadLimit?: number;
  /** Called as the body's chunks are consumed: `(param, current, total)`; the last call has `current === total`. */
  onProgress?: BodyProgressCallback;
  /**
   * Copy every one-shot stream among the parts first (to memory up to `memoryLimit`, else to a
   * temporary file), so the body has an exact Content-Length and can be sent again (retries,
   * 307/308). A nested body is spooled by the multipartEncode that made it. The files are removed
   * by `dispose()`, when the body (and any Blob made of it) is garbage-collected, or when the
   * process exits normally.
   */
  spool?: boolean | SpoolOptions;
  /** Stops spooling (a stream that never ends): the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface EncodeOptions extends ReadOptions {
  /** Use this boundary instead of a fresh random one; the data is then checked for it. */
  boundary?: string;
  /** The multipart subtype: `form-data` (default), `related`, `mixed`, `alternative` or any RFC 2045 token. */
  subtype?: string;
  /** More Content-Type parameters (`type`, `start`, `start-info` for multipart/related), quoted as RFC 2045 requires. */
  parameters?: Readonly<Record<string, string>> | Iterable<readonly [string, string]>;
}

export interface RawBodyOptions extends ReadOptions {
  /** The Content-Type; defaults to a guess from the file's name, else `application/octet-stream`. */
  type?: string;
  /** The byte count of a stream (without it, a stream's body goes out chunked). */
  size?: number;
  /** For a file, a Blob or bytes: the first byte sent (inclusive, default 0), as in `Blob.slice`. */
  start?: number;
  /** For a file, a Blob or bytes: the byte after the last one sent (exclusive, default the end). */
  end?: number;
}

const READ_OPTIONS: OptionRegistry<ReadOptions> = {
  blockSize: true,
  syncReadLimit: true,
  onProgress: true,
  spool: true,
  signal: true,
};
export const ENCODE_OPTIONS: OptionRegistry<EncodeOptions> = {
  ...READ_OPTIONS,
  boundary: true,
  subtype: true,
  parameters: true,
};
export const RAW_BODY_OPTIONS: OptionRegistry<RawBodyOptions> = {
  ...READ_OPTIONS,
  type: true,
  size: true,
  start: true,
  end: true,
};

/**
 * The caller's options as read once, key by key: each check and each use then sees the same value,
 * where a getter read twice could answer one thing to the check and another to the use (a `signal`
 * that is an AbortSignal when checked and a number when spooling listens to it).
 */
export function readOnce<Options extends object>(options: Options, known: OptionRegistry<Options>): Options {
  const values: Record<string, unknown> = {};
  for (const key in known) values[key] = (options as Record<string, unknown>)[key];
  return values as Options;
}

/** How a body is streamed, once the caller's options are checked; the total and the pool are the stream's own. */
export type BodySettings = Omit<StreamSettings<MultipartParam>, 'total' | 'pool'>;

/** The read options, checked and with their defaults: resolved once, then passed down as they are. */
export function readSettings(options: ReadOptions): BodySettings {
  checkSignal(options.signal, 'signal', encodeOptionError);
  return {
    blockSize: checkBlockSize(options.blockSize) ?? DEFAULT_BLOCK_SIZE,
    syncReadLimit: checkBytes(options.syncReadLimit, 'syncReadLimit', 0) ?? DEFAULT_SYNC_READ_LIMIT,
    onProgress: checkFunction<BodyProgressCallback>(options.onProgress, 'onProgress', encodeOptionError),
  };
}

/** The most `fs.read` reads at once (Node refuses a longer read). */
const MAX_READ = 2 ** 31 - 1;

/** A read block size: a whole number of bytes from 1 to what one read can take (the rule of every encoder entry point). */
export function checkBlockSize(value: unknown): number | undefined {
  return checkInteger(value, 'blockSize', encodeOptionError, 1, MAX_READ);
}

function checkBytes(value: unknown, option: string, min: number): number | undefined {
  return checkByteCount(value, option, encodeOptionError, min);
}

export function checkSubtype(subtype: unknown): string {
  if (subtype === undefined) return 'form-data';
  if (typeof subtype !== 'string' || !TOKEN.test(subtype)) {
    throw encodeOptionError(`subtype must be an RFC 2045 token such as 'related' or 'mixed', not ${describe(subtype)}`);
  }
  return subtype;
}

/** Content-Type parameters: token names, not `boundary` (ours), none twice, printable ASCII values (RFC 2045; RFC 2231 encoding is the caller's). */
export function checkParameters(parameters: EncodeOptions['parameters']): HeaderLine[] {
  if (parameters === undefined) return [];
  if (typeof parameters !== 'object' || parameters === null)
    throw encodeOptionError(`parameters must be an object or pairs, not ${describe(parameters)}`);
  const pairs = Symbol.iterator in parameters ? [...(parameters as Iterable<unknown>)] : Object.entries(parameters);
  const seen = new Set<string>();
  return pairs.map((pair) => {
    const [key, value] = Array.isArray(pair) ? (pair as unknown[]) : [];
    if (typeof key !== 'string' || !TOKEN.test(key))
      throw encodeOptionError(`parameter name ${describe(key)} is not an RFC 2045 token`);
    // RFC 2231 forms (`boundary*`, `boundary*0`) would name a second boundary that some parsers prefer.
    if (/^boundary(\*|$)/i.test(key)) throw encodeOptionError(`the ${key} parameter is the boundary option`);
    if (seen.has(key.toLowerCase())) throw encodeOptionError(`parameter ${key} is given twice`);
    seen.add(key.toLowerCase());
    if (typeof value !== 'string' || !/^[\x20-\x7e\t]*$/.test(value)) {
      throw encodeOptionError(`parameter ${key} must be printable ASCII (RFC 2045), not ${describe(value)}`);
    }
    return [key, value] as const;
  });
}
