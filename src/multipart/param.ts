import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { assertValidBoundary } from './boundary.js';
import { MultipartError } from '../common/errors.js';
import { assertHeaderValue, checkPartHeaders, takeHeader, type PartHeadersInit } from './headers.js';
import { guessType, OCTET_STREAM } from './mime.js';
import { checkByteRange, checkOptionKeys, describe } from '../common/validate.js';
import {
  BlobSource,
  blobName,
  blobType,
  FileSource,
  isBlobLike,
  isStreamLike,
  knownStreamSize,
  StreamSource,
  type BlobLike,
  type StreamLike,
} from './sources.js';
import { boundaryOf } from '../common/media-type.js';
import { DEFAULT_BLOCK_SIZE, DEFAULT_SYNC_READ_LIMIT, streamPieces } from './stream.js';
import {
  bodyLength,
  isSource,
  partHead,
  sizeOf,
  wirePieces,
  type HeaderLine,
  type NestedBody,
  type Part,
  type PartData,
  type Piece,
} from './wire.js';

/** Progress of a part or a body: bytes consumed so far, and the total (undefined when unknown). */
export type ProgressCallback = (param: MultipartParam, current: number, total: number | undefined) => void;

/** What a file part can stream from, besides a path (`MultipartParam.fromFile`): a Blob or File (by shape), or a stream. */
export type FileObject = Blob | BlobLike | StreamLike;

/**
 * An encoded multipart body (what `multipartEncode` returns) used as a part's value: the part
 * carries that body, with its own boundary and Content-Type.
 */
export interface NestedForm {
  readonly boundary: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: AsyncIterable<Buffer>;
}

export interface MultipartParamOptions {
  /** The part's data: a string is sent as UTF-8, bytes as they are, an encoded multipart as a nested body. */
  value?: string | Uint8Array | NestedForm;
  /** Makes this a file part and names the file. */
  filename?: string;
  /** The part's Content-Type. For file parts it defaults to a guess from `filename`, else `application/octet-stream`. */
  filetype?: string;
  /** The byte count of `fileobj` when it cannot be known otherwise (a stream). */
  filesize?: number;
  /** Where a file part's bytes come from: a Blob/File, a Node Readable, a web ReadableStream or an async iterable of bytes. */
  fileobj?: FileObject;
  /** Called as this part's bytes are consumed: `(param, current, total)`. */
  cb?: ProgressCallback;
  /** More header lines for this part (`Content-ID`, `Content-Transfer-Encoding`...): an object, a `Headers` or pairs. */
  headers?: PartHeadersInit;
}

export interface FromFileOptions {
  /** The filename sent; defaults to the path's basename. */
  filename?: string;
  /** The Content-Type sent; defaults to a guess from the filename sent. */
  filetype?: string;
  cb?: ProgressCallback;
  headers?: PartHeadersInit;
  /** The first byte sent (inclusive, default 0), as in `Blob.slice`. */
  start?: number;
  /** The byte after the last one sent (exclusive, default the file's size), as in `Blob.slice`. */
  end?: number;
}

/** A value accepted for a field in `fromParams` / `multipartEncode` inputs. */
export type FieldValue =
  string | number | bigint | boolean | Uint8Array | ArrayBuffer | FileObject | NestedForm | MultipartParam;

/**
 * One entry of a list: a param, a `[name, value]` pair, or `[name, value, filename]`, which
 * makes a file part with that filename, as `FormData.append(name, value, filename)` does.
 */
export type ParamsEntry = MultipartParam | readonly [string, FieldValue] | readonly [string, FieldValue, string];

/** Everything `fromParams` (and so `multipartEncode`) accepts. */
export type ParamsInput =
  | Iterable<ParamsEntry>
  | FormData
  | Map<string, FieldValue | readonly FieldValue[]>
  | { readonly [name: string]: FieldValue | readonly FieldValue[] };

/**
 * The ESM and CommonJS builds each define the classes; keys shared through the global symbol
 * registry let objects made by one build be taken by the other.
 */
const PARAM_BRAND = Symbol.for('multipart-poster.MultipartParam');
const PART = Symbol.for('multipart-poster.part');
/** The pieces of an encoded body (set by the encoder), for nesting it in a part, and the boundary they were framed with. */
export const PIECES = Symbol.for('multipart-poster.pieces');
export const BOUNDARY = Symbol.for('multipart-poster.boundary');

export function isMultipartParam(value: unknown): value is MultipartParam {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PARAM_BRAND] === true;
}

/** The wire description of a param, from either build. */
export function partOf(param: MultipartParam): Part<MultipartParam> {
  return (param as unknown as Record<symbol, Part<MultipartParam>>)[PART]!;
}

/**
 * One part of a multipart body: a plain field, or a file part (one with a `filename` or a
 * `fileobj`), which always carries a Content-Type. A `null` name means no Content-Disposition
 * line, for parts of multipart/related or /mixed bodies; form-data parts need a name.
 */
export class MultipartParam {
  readonly name: string | null;
  readonly filename: string | undefined;
  /** The Content-Type this part is sent with; undefined for a plain field without one. */
  readonly filetype: string | undefined;
  /** The part's further header lines, as they are sent. */
  readonly headers: readonly HeaderLine[];
  readonly cb: ProgressCallback | undefined;
  #data: PartData;
  #part: Part<MultipartParam> | undefined;

  /** @internal */
  get [PARAM_BRAND](): true {
    return true;
  }

  /** @internal */
  get [PART](): Part<MultipartParam> {
    return (this.#part ??= {
      name: this.name ?? undefined,
      filename: this.filename,
      contentType: this.filetype,
      headers: this.headers.length === 0 ? undefined : this.headers,
      data: this.#data,
      owner: this,
    });
  }

  constructor(name: string | null, options: MultipartParamOptions = {}) {
    if (typeof name !== 'string' && name !== null) {
      throw new MultipartError(
        'ERR_INVALID_NAME',
        `a field name must be a string (or null for a part without one), not ${describe(name)}`,
      );
    }
    const label = name ?? undefined;
    checkOptionKeys(
      options,
      PARAM_OPTIONS,
      (message) => new MultipartError('ERR_INVALID_OPTION', message, { paramName: label }),
    );
    const { value, fileobj, filesize, cb } = options;
    let { filename, filetype } = options;
    if (value !== undefined && fileobj !== undefined) {
      throw new MultipartError('ERR_VALUE_AND_FILEOBJ', 'give either a value or a fileobj, not both', {
        paramName: label,
      });
    }
    checkOptionalString(filename, 'filename', label);
    checkOptionalString(filetype, 'filetype', label);
    if (filetype !== undefined) assertHeaderValue(filetype, 'the content type', label);
    if (cb !== undefined && typeof cb !== 'function') {
      throw new MultipartError('ERR_INVALID_VALUE', `cb must be a function, not ${describe(cb)}`, { paramName: label });
    }
    if (filesize !== undefined && !(Number.isSafeInteger(filesize) && filesize >= 0)) {
      throw new MultipartError(
        'ERR_INVALID_VALUE',
        `filesize must be a whole number of bytes, not ${describe(filesize)}`,
        { paramName: label },
      );
    }
    // Most parts have no headers of their own: they share one empty list (100,000 fields, 100,000 fewer arrays).
    const headers = options.headers === undefined ? NO_HEADERS : checkPartHeaders(options.headers, label);
    if (headers.length > 0) {
      const typeHeader = takeHeader(headers, 'content-type');
      if (typeHeader !== undefined) {
        if (filetype !== undefined) throw conflict('a Content-Type header and filetype', label);
        filetype = typeHeader;
      }
      if (name !== null && headers.some(([key]) => key.toLowerCase() === 'content-disposition')) {
        throw conflict(
          'a Content-Disposition header and a name (which writes one)',
          label,
          'give the part a null name to write your own',
        );
      }
    }

    let data: PartData;
    if (isBlobLike(fileobj)) {
      // A nameless Blob goes out as browsers and FormData send it: filename="blob".
      filename ??= blobName(fileobj) ?? 'blob';
      data = new BlobSource(fileobj, label);
      const type = blobType(fileobj);
      if (filetype === undefined && type !== '' && !/[\x00-\x1f\x7f]/.test(type)) filetype = type;
    } else if (fileobj !== undefined) {
      if (!isStreamLike(fileobj)) {
        throw new MultipartError(
          'ERR_INVALID_VALUE',
          `fileobj must be a Blob, a File, a Readable, a ReadableStream or an async iterable of bytes, not ${describe(fileobj)}` +
            (typeof fileobj === 'string' ? ' (for a path, use await MultipartParam.fromFile(name, path))' : ''),
          { paramName: label },
        );
      }
      data = new StreamSource(fileobj, filesize ?? knownStreamSize(fileobj));
    } else if (isNestedForm(value)) {
      if (filetype !== undefined)
        throw conflict(
          'a nested multipart body carries its own Content-Type; filetype or a Content-Type header',
          label,
        );
      const nested = nestedBody(value, label);
      filetype = nested.contentType;
      data = { boundary: nested.boundary, pieces: nested.pieces };
    } else if (value === undefined || typeof value === 'string' || value instanceof Uint8Array) {
      data = value === undefined ? '' : fixedLength(value);
    } else {
      throw new MultipartError(
        'ERR_INVALID_VALUE',
        `value must be a string, bytes or an encoded multipart body, not ${describe(value)}`,
        {
          paramName: label,
        },
      );
    }
    // A stream's declared filesize is its size; anything else must have the size declared.
    if (filesize !== undefined) checkDeclaredSize(filesize, sizeOf(data), label);
    if (headers.length > 0) checkContentLength(headers, data, label);

    const isFile = filename !== undefined || fileobj !== undefined;
    this.name = name;
    this.filename = filename;
    this.filetype = filetype ?? (isFile ? guessType(filename) : undefined);
    this.headers = headers;
    this.cb = cb;
    this.#data = data;
  }

  /**
   * A file part read from `path` when its bytes are needed (or the byte range `start`..`end` of
   * it, as `Blob.slice` counts). Only `stat` runs now.
   */
  static async fromFile(
    paramName: string | null,
    path: string,
    options: FromFileOptions = {},
  ): Promise<MultipartParam> {
    const label = paramName ?? undefined;
    checkOptionKeys(
      options,
      FROM_FILE_OPTIONS,
      (message) => new MultipartError('ERR_INVALID_OPTION', message, { paramName: label }),
    );
    if (typeof path !== 'string')
      throw new MultipartError('ERR_INVALID_VALUE', `path must be a string, not ${describe(path)}`, {
        paramName: label,
      });
    let stats;
    try {
      stats = await statFew(path);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new MultipartError('ERR_FILE_UNREADABLE', `cannot read file ${JSON.stringify(path)}: ${reason}`, {
        paramName: label,
        cause,
      });
    }
    if (!stats.isFile()) {
      throw new MultipartError('ERR_FILE_UNREADABLE', `${JSON.stringify(path)} is not a regular file`, {
        paramName: label,
      });
    }
    const [start, end] = checkByteRange(options.start, options.end, stats.size, JSON.stringify(path), label);
    const param = new MultipartParam(paramName, {
      filename: options.filename ?? basename(path),
      ...(options.filetype === undefined ? {} : { filetype: options.filetype }),
      ...(options.cb === undefined ? {} : { cb: options.cb }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
    param.#data = new FileSource(path, stats, start, end - start);
    param.#part = undefined;
    return param;
  }

  /**
   * Turns any accepted input into a list of params: a list mixing params, `[name, value]` pairs
   * and `[name, value, filename]` triples, a mapping (an array value means several parts of that
   * name), or a FormData. A param given under a key must carry that key's name.
   */
  static fromParams(params: ParamsInput): MultipartParam[] {
    if (typeof params !== 'object' || params === null || typeof params === 'string') {
      throw new MultipartError(
        'ERR_INVALID_PARAMS',
        `params must be a list, a mapping or a FormData, not ${describe(params)}`,
      );
    }
    const result: MultipartParam[] = [];
    if (params instanceof Map || !(Symbol.iterator in params)) {
      const entries = params instanceof Map ? params.entries() : Object.entries(params);
      for (const [name, value] of entries as Iterable<[string, FieldValue | readonly FieldValue[]]>) {
        if (Array.isArray(value)) for (const item of value) result.push(toParam(name, item as FieldValue));
        else result.push(toParam(name, value as FieldValue));
      }
      return result;
    }
    for (const item of params as Iterable<unknown>) {
      if (isMultipartParam(item)) result.push(item);
      else if (Array.isArray(item) && item.length === 2) result.push(toParam(item[0], item[1]));
      else if (Array.isArray(item) && item.length === 3) result.push(toParam(item[0], item[1], item[2]));
      else {
        throw new MultipartError(
          'ERR_INVALID_PARAMS',
          `each item must be a MultipartParam, a [name, value] pair or [name, value, filename], not ${describe(item)}`,
        );
      }
    }
    return result;
  }

  /** True for a file part (it has a filename or a fileobj). */
  get isFile(): boolean {
    return this.filename !== undefined || isSource(this.#data);
  }

  /** Bytes of the data (without framing); undefined when a stream's size is unknown. */
  get size(): number | undefined {
    return sizeOf(this.#data);
  }

  /** Whether the part can be encoded again (false once a one-shot stream has been read). */
  get replayable(): boolean {
    const data = this.#data;
    if (typeof data === 'string' || data instanceof Uint8Array) return true;
    return isSource(data)
      ? !data.consumed
      : data.pieces.every((piece) => !isSource(piece.data) || !piece.data.consumed);
  }

  /** The part's header block, as in a multipart/form-data body: from `--boundary` to the blank line that ends the headers. */
  encodeHdr(boundary: string): string {
    assertValidBoundary(boundary);
    return partHead({ boundary, disposition: 'form-data' }, partOf(this));
  }

  /**
   * The whole part as bytes. Only for data held in memory: a file or stream part throws
   * ERR_NOT_IN_MEMORY rather than read a file whole (use `iterEncode`).
   */
  encode(boundary: string): Buffer {
    const pieces = this.#pieces(boundary);
    const bytes: Uint8Array[] = [];
    for (const { data } of pieces) {
      if (isSource(data)) {
        throw new MultipartError(
          'ERR_NOT_IN_MEMORY',
          `its data comes from a ${data.description}; stream it with iterEncode()`,
          { paramName: this.name ?? undefined },
        );
      }
      bytes.push(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    }
    return Buffer.concat(bytes);
  }

  /**
   * The part's bytes as a stream of Buffers; `cb` reports progress. With a `blockSize`, files
   * are read that many bytes at a time and no chunk is larger (poster's `iter_encode`).
   */
  iterEncode(boundary: string, blockSize?: number): AsyncIterable<Buffer> {
    if (blockSize !== undefined && !(Number.isSafeInteger(blockSize) && blockSize >= 1)) {
      throw new MultipartError(
        'ERR_INVALID_OPTION',
        `blockSize must be a whole number of bytes, at least 1, not ${describe(blockSize)}`,
      );
    }
    const pieces = this.#pieces(boundary);
    return {
      [Symbol.asyncIterator]: () =>
        streamPieces(pieces, {
          blockSize: blockSize ?? DEFAULT_BLOCK_SIZE,
          syncReadLimit: DEFAULT_SYNC_READ_LIMIT,
          maxChunk: blockSize,
          onPartProgress: reportToCb,
        }),
    };
  }

  /** Bytes of the whole part for this boundary. Throws ERR_SIZE_UNKNOWN for a stream of unknown size. */
  getSize(boundary: string): number {
    const size = bodyLength(this.#pieces(boundary));
    if (size === undefined) {
      throw new MultipartError('ERR_SIZE_UNKNOWN', 'the size of its stream is not known; give filesize', {
        paramName: this.name ?? undefined,
      });
    }
    return size;
  }

  /**
   * poster's `reset()`: ready the param to be encoded again from the start. Files,
   * Blobs and in-memory data always are; a stream that was read throws ERR_SOURCE_CONSUMED.
   */
  reset(): void {
    if (!this.replayable) {
      throw new MultipartError('ERR_SOURCE_CONSUMED', 'its stream was already read and cannot be rewound', {
        paramName: this.name ?? undefined,
      });
    }
  }

  /** The part alone, framed as in a form-data body with this (caller-chosen, so checked) boundary, without the close delimiter. */
  #pieces(boundary: string): Piece<MultipartParam>[] {
    assertValidBoundary(boundary);
    return wirePieces([partOf(this)], { boundary, disposition: 'form-data', chosen: true }, false);
  }
}

const NO_HEADERS: HeaderLine[] = Object.freeze([]) as unknown as HeaderLine[];

const PARAM_OPTIONS = ['value', 'filename', 'filetype', 'filesize', 'fileobj', 'cb', 'headers'];
const FROM_FILE_OPTIONS = ['filename', 'filetype', 'cb', 'headers', 'start', 'end'];

/**
 * At most this many `stat` calls in flight. A directory's worth of `fromFile` calls made at once
 * (`Promise.all(paths.map(...))`) would otherwise complete in one pass of the event loop and hold
 * it for tens of milliseconds; in groups this size the loop turns between them.
 */
const STATS_IN_FLIGHT = 16;
let statsInFlight = 0;
const waitingForStat: Array<() => void> = [];

async function statFew(path: string): Promise<import('node:fs').Stats> {
  if (statsInFlight >= STATS_IN_FLIGHT) await new Promise<void>((resolve) => waitingForStat.push(resolve));
  statsInFlight++;
  try {
    return await stat(path);
  } finally {
    statsInFlight--;
    waitingForStat.shift()?.();
  }
}

/** The body-level callback the stream calls for each part: the param's own `cb`. */
export function reportToCb(param: MultipartParam, current: number, total: number | undefined): void {
  param.cb?.(param, current, total);
}

function conflict(what: string, label: string | undefined, hint = 'give one'): MultipartError {
  return new MultipartError('ERR_HEADER_CONFLICT', `${what} would both say it; ${hint}`, { paramName: label });
}

/** A Content-Length among a part's headers must be the data's own length (RFC 7578 forbids it in form-data bodies; elsewhere it must not lie). */
function checkContentLength(headers: readonly HeaderLine[], data: PartData, label: string | undefined): void {
  const given = headers.find(([key]) => key.toLowerCase() === 'content-length')?.[1];
  if (given === undefined) return;
  const size = sizeOf(data);
  if (size === undefined || given !== String(size)) {
    throw new MultipartError(
      'ERR_HEADER_CONFLICT',
      `header Content-Length: ${given} is not the part's length (${size ?? 'unknown'}); leave it out`,
      {
        paramName: label,
      },
    );
  }
}

function isNestedForm(value: unknown): value is NestedForm {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    typeof (value as NestedForm).boundary === 'string' &&
    typeof (value as NestedForm).body === 'object' &&
    (value as NestedForm).body !== null &&
    Array.isArray(((value as NestedForm).body as unknown as Record<symbol, unknown>)[PIECES])
  );
}

/**
 * A nested body's Content-Type, as a part header, is data of the outer body: it must be a clean
 * header value naming the nested body's own boundary, whatever was done to the object it came in.
 */
function nestedBody(form: NestedForm, label: string | undefined): NestedBody & { contentType: string } {
  const type = form.headers['Content-Type'];
  const boundary = (form.body as unknown as Record<symbol, unknown>)[BOUNDARY];
  if (
    typeof type !== 'string' ||
    typeof boundary !== 'string' ||
    form.boundary !== boundary ||
    !/^multipart\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+;/i.test(type)
  ) {
    throw new MultipartError(
      'ERR_INVALID_VALUE',
      'a nested body must be a multipart body (what multipartEncode returns)',
      { paramName: label },
    );
  }
  assertHeaderValue(type, 'the Content-Type of a nested body', label);
  if (boundaryOf(type) !== boundary || /;\s*boundary\*/i.test(type)) {
    throw new MultipartError(
      'ERR_INVALID_VALUE',
      `the Content-Type of the nested body does not name its boundary ${JSON.stringify(boundary)}: ${JSON.stringify(type)}`,
      { paramName: label },
    );
  }
  return {
    boundary,
    contentType: type,
    pieces: (form.body as unknown as Record<symbol, readonly Piece<unknown>[]>)[PIECES]!,
  };
}

/**
 * A view whose length cannot follow its buffer: a view over a resizable ArrayBuffer
 * tracks the buffer's length, so growing it would push bytes past Content-Length.
 */
function fixedLength<T extends string | Uint8Array>(value: T): T {
  if (typeof value === 'string' || !(value.buffer as { resizable?: boolean }).resizable) return value;
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength) as T;
}

function toParam(name: unknown, value: FieldValue, filename?: unknown): MultipartParam {
  if (typeof name !== 'string') {
    throw new MultipartError('ERR_INVALID_NAME', `a field name must be a string, not ${describe(name)}`);
  }
  if (filename !== undefined && typeof filename !== 'string') {
    throw new MultipartError(
      'ERR_INVALID_VALUE',
      `the filename in [name, value, filename] must be a string, not ${describe(filename)}`,
      { paramName: name },
    );
  }
  const named = filename === undefined ? {} : { filename };
  if (isMultipartParam(value)) {
    if (value.name !== name) {
      throw new MultipartError(
        'ERR_INVALID_PARAMS',
        `the param given under this name is named ${JSON.stringify(value.name)}`,
        { paramName: name },
      );
    }
    if (filename !== undefined)
      throw new MultipartError('ERR_INVALID_PARAMS', 'a MultipartParam carries its own filename; give it there', {
        paramName: name,
      });
    return value;
  }
  if (typeof value === 'string' || value instanceof Uint8Array)
    return new MultipartParam(name, filename === undefined ? { value } : { value, filename });
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return new MultipartParam(name, { value: String(value), ...named });
  }
  if (value instanceof ArrayBuffer) return new MultipartParam(name, { value: new Uint8Array(value), ...named });
  if (isBlobLike(value) || isStreamLike(value)) return new MultipartParam(name, { fileobj: value, ...named });
  if (isNestedForm(value)) {
    if (filename !== undefined)
      throw new MultipartError('ERR_INVALID_PARAMS', 'a nested multipart body has no filename', { paramName: name });
    return new MultipartParam(name, { value });
  }
  throw new MultipartError(
    'ERR_INVALID_VALUE',
    `unsupported value ${describe(value)}: give a string, a number, bytes (Uint8Array, Buffer, ArrayBuffer), a Blob or File, ` +
      'a stream, an encoded multipart body or a MultipartParam; for a file on disk, await MultipartParam.fromFile(name, path)',
    { paramName: name },
  );
}

function checkOptionalString(value: unknown, what: string, paramName: string | undefined): void {
  if (value !== undefined && typeof value !== 'string') {
    throw new MultipartError('ERR_INVALID_VALUE', `${what} must be a string, not ${describe(value)}`, { paramName });
  }
}

function checkDeclaredSize(declared: number, actual: number | undefined, paramName: string | undefined): void {
  if (declared !== actual) {
    throw new MultipartError(
      'ERR_SIZE_MISMATCH',
      `filesize ${declared} does not match the data's ${actual ?? 'unknown'} bytes`,
      { paramName },
    );
  }
}

export { OCTET_STREAM, guessType };
