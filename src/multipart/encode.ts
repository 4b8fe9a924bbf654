import { assertValidBoundary, genBoundary } from './boundary.js';
import { MultipartError } from '../common/errors.js';
import { assertHeaderValue } from './headers.js';
import { guessType, OCTET_STREAM } from './mime.js';
import { BOUNDARY, MultipartParam, partOf, PIECES, reportToCb, type ParamsInput } from './param.js';
import { BlockPool, isBlobLike, type BlobLike, type ByteSource, type StreamLike } from './sources.js';
import { DEFAULT_BLOCK_SIZE, DEFAULT_SYNC_READ_LIMIT, LoopTurns, streamPieces, type StreamSettings } from './stream.js';
import { iterableToReadableStream, piecesToBlob } from './web.js';
import { removeSpooled, spoolParts, spoolSettings, type SpoolOptions } from './spool.js';
import {
  checkByteCount,
  checkByteRange,
  checkFunction,
  checkOptionKeys,
  checkSignal,
  describe,
  encodeOptionError,
  TOKEN,
} from '../common/validate.js';
import {
  bodyLength,
  isNested,
  isSource,
  multipartContentType,
  partHead,
  unframedPieces,
  wirePieces,
  type Framing,
  type HeaderLine,
  type Part,
  type Piece,
} from './wire.js';

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

/**
 * The body of an encoded request: an async iterable of Buffers that can be iterated again from
 * the start, yielding the same bytes, as long as every source is replayable (files, Blobs and
 * in-memory data are; plain streams are not).
 */
export interface UploadBody extends AsyncIterable<Buffer> {
  /** Byte count of the body; undefined when a stream of unknown size is in it. */
  readonly length: number | undefined;
  /** Whether the body can be streamed (again) now: false once a one-shot stream in it has been read. */
  readonly replayable: boolean;
  /** A fresh pass over the body from its start; `return()` (leaving a loop early) closes the open file. */
  [Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined>;
}

const BODY_BRAND = Symbol.for('multipart-poster.UploadBody');

/** True for an UploadBody from either build (ESM or CommonJS). */
export function isUploadBody(value: unknown): value is UploadBody {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BODY_BRAND] === true;
}

type Settings = Omit<StreamSettings<MultipartParam>, 'total' | 'pool'>;

/** @internal An encoded body over planned pieces (multipartEncode's, and multipart-poster/form-data's FormData's). */
export class Body implements UploadBody {
  readonly #length: number | undefined;
  readonly #pieces: readonly Piece<MultipartParam>[];
  readonly #settings: Settings;
  readonly #boundary: string | undefined;

  constructor(pieces: readonly Piece<MultipartParam>[], settings: Settings, boundary?: string) {
    this.#pieces = pieces;
    this.#settings = settings;
    this.#length = bodyLength(pieces);
    this.#boundary = boundary;
  }

  /** @internal The boundary the pieces were framed with (a multipart body's), for nesting it. */
  get [BOUNDARY](): string | undefined {
    return this.#boundary;
  }

  get length(): number | undefined {
    return this.#length;
  }

  /** @internal */
  get [BODY_BRAND](): true {
    return true;
  }

  /** @internal The pieces, for nesting this body in a part of another. */
  get [PIECES](): readonly Piece<MultipartParam>[] {
    return this.#pieces;
  }

  get replayable(): boolean {
    return this.#pieces.every(({ data }) => !isSource(data) || !data.consumed);
  }

  [Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    return streamPieces(this.#pieces, { ...this.#settings, total: this.length });
  }

  /**
   * @internal For a consumer that knows when it is done with each chunk (upload()
   * after the socket's write callback): `recycle(chunk)` lets file blocks be read
   * into again. A chunk must not be touched after it is recycled.
   */
  recycling(): RecyclingChunks {
    const pool = new BlockPool(this.#settings.blockSize);
    return {
      chunks: streamPieces(this.#pieces, { ...this.#settings, pool, total: this.length }),
      recycle: (chunk) => pool.give(chunk),
    };
  }
}

interface RecyclingChunks {
  chunks: AsyncGenerator<Buffer, void, undefined>;
  recycle: (chunk: Buffer) => void;
}

/** The body's chunks for upload(), whose blocks may be read into again once recycled (a body of either build). */
export function recyclingChunks(body: UploadBody): RecyclingChunks {
  return (body as unknown as { recycling(): RecyclingChunks }).recycling();
}

/** An encoded body ready to send: pass `body` and `headers` to any HTTP client. */
export interface EncodedBody {
  readonly body: UploadBody;
  /** `Content-Type`, and `Content-Length` when the length is known. Frozen: spread it to add headers (`{ ...form.headers, authorization }`). */
  readonly headers: Readonly<Record<string, string>>;
  /** undefined when a stream of unknown size makes the length unknowable: the body then goes out chunked. */
  readonly contentLength: number | undefined;
  /**
   * The body as a `Blob` (`size` is the Content-Length) made of the framing and the parts, nothing
   * read up front: what `fetch` takes natively (no `duplex`, replayed on 307/308). Node's fetch
   * reads a Blob body whole into memory before sending it: for large files use `body`.
   * ERR_BLOB_UNSUPPORTED for a one-shot stream in the body.
   */
  toBlob(): Promise<Blob>;
  /** The body as a web `ReadableStream` of bytes, pulled as it is read; cancelling it closes the open file. */
  toReadableStream(): ReadableStream<Uint8Array>;
  /** Removes the temporary files of a spooled body (a no-op otherwise); the body cannot be read after it. */
  dispose(): Promise<void>;
}

export interface EncodedForm extends EncodedBody {
  readonly boundary: string;
}

/**
 * poster's `multipart_encode`: the body of a multipart request (multipart/form-data unless
 * `subtype` says otherwise), its headers and exact length. Nothing is opened or read until the
 * body is iterated.
 */
export async function multipartEncode(params: ParamsInput, options: EncodeOptions = {}): Promise<EncodedForm> {
  checkOptionKeys(
    options,
    ['boundary', 'subtype', 'parameters', 'onProgress', 'blockSize', 'syncReadLimit', 'spool', 'signal'],
    encodeOptionError,
  );
  const chosen = options.boundary !== undefined;
  const boundary = chosen ? options.boundary : genBoundary();
  assertValidBoundary(boundary);
  const subtype = checkSubtype(options.subtype);
  const parameters = checkParameters(options.parameters);
  const settings = readSettings(options);
  const spooling = spoolSettings(options.spool, encodeOptionError);
  const list = MultipartParam.fromParams(params);
  const formData = subtype.toLowerCase() === 'form-data';
  if (!formData && list.length === 0) {
    // RFC 2046 §5.1.1: a multipart body has at least one part (form-data alone is sent empty, as browsers do).
    throw new MultipartError(
      'ERR_INVALID_PARAMS',
      `a multipart/${subtype} body needs at least one part (RFC 2046 §5.1.1)`,
    );
  }
  if (formData) {
    list.forEach((param, index) => {
      if (param.name === null) {
        throw new MultipartError(
          'ERR_INVALID_NAME',
          `part ${index + 1} has no name, and every part of a multipart/form-data body needs one (nameless parts belong in subtype 'related' or 'mixed')`,
        );
      }
    });
  }
  const spooled: string[] = [];
  const parts = await spoolParts(list.map(partOf), spooling, spooled, options.signal);
  let pieces: Piece<MultipartParam>[];
  try {
    pieces = await planInSlices(parts, { boundary, disposition: formData ? 'form-data' : 'attachment', chosen });
  } catch (error) {
    await removeSpooled(spooled); // a boundary found in spooled data, a refused nested body: no file stays behind
    throw error;
  }
  const reportsParts = list.some((param) => param.cb !== undefined || isNested(partOf(param).data));
  const body = new Body(pieces, reportsParts ? { ...settings, onPartProgress: reportToCb } : settings, boundary);
  return Object.freeze({
    ...encodedBody(body, pieces, multipartContentType(subtype, boundary, parameters), spooled),
    boundary,
  });
}

/** poster's `get_body_size`: the body's byte count, computed without reading any file. */
export function getBodySize(params: ParamsInput, boundary: string): number {
  const length = bodyLength(formDataPieces(params, boundary));
  if (length === undefined) {
    throw new MultipartError('ERR_SIZE_UNKNOWN', 'a stream of unknown size is among the params; give its filesize');
  }
  return length;
}

/** poster's `get_headers`: `Content-Type`, and `Content-Length` unless a stream's size is unknown. */
export function getHeaders(params: ParamsInput, boundary: string): Record<string, string> {
  return headersFor(multipartContentType('form-data', boundary), bodyLength(formDataPieces(params, boundary)));
}

/** Parts planned between two looks at the clock; the event loop gets its turns, so 100,000 fields never hold it for long. */
const PLAN_STEP = 256;

async function planInSlices(
  parts: readonly Part<MultipartParam>[],
  framing: Framing,
): Promise<Piece<MultipartParam>[]> {
  const pieces: Piece<MultipartParam>[] = [];
  const turns = new LoopTurns();
  for (let start = 0; start < parts.length; start += PLAN_STEP) {
    if (turns.due) await turns.turn();
    for (const piece of wirePieces(parts.slice(start, start + PLAN_STEP), framing, false)) pieces.push(piece);
  }
  for (const piece of wirePieces<MultipartParam>([], framing)) pieces.push(piece); // the close delimiter
  return pieces;
}

function formDataPieces(params: ParamsInput, boundary: string): Piece<MultipartParam>[] {
  assertValidBoundary(boundary);
  return wirePieces(MultipartParam.fromParams(params).map(partOf), {
    boundary,
    disposition: 'form-data',
    chosen: true,
  });
}

/** poster's `encode_string`: one complete text part. */
export function encodeString(boundary: string, name: string, value: string | Uint8Array): Buffer {
  return new MultipartParam(name, { value }).encode(boundary);
}

/**
 * poster's `encode_file_header`: the header block of a file part. The size is
 * checked but not sent (no per-part Content-Length: RFC 7578 §4.8).
 */
export function encodeFileHeader(
  boundary: string,
  paramName: string,
  fileSize: number,
  filename?: string,
  filetype?: string,
): string {
  assertValidBoundary(boundary);
  if (!(Number.isSafeInteger(fileSize) && fileSize >= 0)) {
    throw new MultipartError(
      'ERR_INVALID_VALUE',
      `fileSize must be a whole number of bytes, not ${describe(fileSize)}`,
      { paramName },
    );
  }
  if (typeof paramName !== 'string') {
    throw new MultipartError('ERR_INVALID_NAME', `a field name must be a string, not ${describe(paramName)}`);
  }
  if (filetype !== undefined) assertHeaderValue(filetype, 'the content type', paramName);
  return partHead(
    { boundary, disposition: 'form-data' },
    { name: paramName, filename, contentType: filetype ?? guessType(filename), headers: undefined },
  );
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

/**
 * A single file or stream as a whole request body, not multipart (a PUT to a presigned URL,
 * say), or a byte range of one (`start`, `end`: one part of a multipart upload). A string is a
 * file path. The result has the same shape as `multipartEncode`'s, so `upload()` and every HTTP
 * client take it alike.
 */
export async function rawBody(
  source: string | Uint8Array | Blob | BlobLike | StreamLike,
  options: RawBodyOptions = {},
): Promise<EncodedBody> {
  checkOptionKeys(
    options,
    ['type', 'size', 'start', 'end', 'onProgress', 'blockSize', 'syncReadLimit', 'spool', 'signal'],
    encodeOptionError,
  );
  const spooling = spoolSettings(options.spool, encodeOptionError);
  if (options.type !== undefined) assertHeaderValue(options.type, 'the content type');
  const settings = readSettings(options);
  const { type, start, end } = options;
  const typed = type === undefined ? {} : { filetype: type };
  let param: MultipartParam;
  if (typeof source === 'string') {
    param = await MultipartParam.fromFile('body', source, {
      ...typed,
      ...(start === undefined ? {} : { start }),
      ...(end === undefined ? {} : { end }),
    });
  } else if (source instanceof Uint8Array || isBlobLike(source)) {
    const length = source instanceof Uint8Array ? source.length : source.size;
    const [from, to] = checkByteRange(
      start,
      end,
      length,
      source instanceof Uint8Array ? 'the bytes' : 'the Blob',
      'body',
    );
    const sliced =
      from === 0 && to === length
        ? source
        : source instanceof Uint8Array
          ? source.subarray(from, to)
          : source.slice(from, to, source.type);
    param =
      sliced instanceof Uint8Array
        ? new MultipartParam('body', { value: sliced, filetype: type ?? OCTET_STREAM })
        : new MultipartParam('body', {
            fileobj: sliced,
            ...typed,
            ...(options.size === undefined ? {} : { filesize: options.size }),
          });
  } else {
    if (start !== undefined || end !== undefined) {
      throw new MultipartError(
        'ERR_INVALID_OPTION',
        'start and end take a file, a Blob or bytes; a stream cannot be cut without reading it',
        { paramName: 'body' },
      );
    }
    param = new MultipartParam('body', {
      fileobj: source,
      ...typed,
      ...(options.size === undefined ? {} : { filesize: options.size }),
    });
  }
  const spooled: string[] = [];
  const [{ data }] = (await spoolParts([partOf(param)], spooling, spooled, options.signal)) as [Part<MultipartParam>];
  const pieces = unframedPieces({ owner: param, name: 'body', data: data as Uint8Array | ByteSource }); // rawBody makes no text or nested part
  return Object.freeze(encodedBody(new Body(pieces, settings), pieces, param.filetype ?? OCTET_STREAM, spooled));
}

/** The read options, checked and with their defaults: resolved once, then passed down as they are. */
function readSettings(options: ReadOptions): Settings {
  checkSignal(options.signal, 'signal', encodeOptionError);
  return {
    blockSize: checkByteCount(options.blockSize, 'blockSize', encodeOptionError, 1) ?? DEFAULT_BLOCK_SIZE,
    syncReadLimit: checkByteCount(options.syncReadLimit, 'syncReadLimit', encodeOptionError) ?? DEFAULT_SYNC_READ_LIMIT,
    onProgress: checkFunction<BodyProgressCallback>(options.onProgress, 'onProgress', encodeOptionError),
  };
}

function checkSubtype(subtype: unknown): string {
  if (subtype === undefined) return 'form-data';
  if (typeof subtype !== 'string' || !TOKEN.test(subtype)) {
    throw encodeOptionError(`subtype must be an RFC 2045 token such as 'related' or 'mixed', not ${describe(subtype)}`);
  }
  return subtype;
}

/** Content-Type parameters: token names, not `boundary` (ours), none twice, printable ASCII values (RFC 2045; RFC 2231 encoding is the caller's). */
function checkParameters(parameters: EncodeOptions['parameters']): HeaderLine[] {
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

/**
 * The result, frozen with its headers: what upload() sends is what was measured (a Content-Length
 * or Content-Type changed afterwards would let the body disagree with its head). Spread the headers
 * to add your own: `{ ...form.headers, authorization }`.
 */
export function encodedBody(
  body: Body,
  pieces: readonly Piece<MultipartParam>[],
  contentType: string,
  spooled: string[],
): EncodedBody {
  return {
    body,
    headers: Object.freeze(headersFor(contentType, body.length)),
    contentLength: body.length,
    // A Blob holds the body, so that spool files outlive neither of them.
    toBlob: async () => keepWith(await piecesToBlob(pieces, contentType), body),
    toReadableStream: () => iterableToReadableStream(body),
    dispose: () => removeSpooled(spooled),
  };
}

const owners = new WeakMap<Blob, Body>();
function keepWith(blob: Blob, body: Body): Blob {
  owners.set(blob, body);
  return blob;
}

function headersFor(contentType: string, length: number | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': contentType };
  if (length !== undefined) headers['Content-Length'] = String(length);
  return headers;
}
