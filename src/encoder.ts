import { assertValidBoundary, formDataContentType, genBoundary } from './boundary.js';
import { MultipartError } from './errors.js';
import { assertHeaderValue } from './escape.js';
import { MultipartParam, OCTET_STREAM, guessType, type ParamsInput } from './param.js';
import { BlockPool, type StreamLike } from './sources.js';
import { DEFAULT_BLOCK_SIZE, planParts, streamPieces, type BodyOptions, type BodyProgressCallback } from './stream.js';
import { checkFunction, checkOptionKeys, describe, encodeOptionError } from './validate.js';
import { bodyLength, isSource, partHead, type Piece } from './wire.js';

export interface EncodeOptions {
  /** Use this boundary instead of a fresh random one; the data is then checked for it. */
  boundary?: string;
  /** Called as the body's chunks are consumed: `(param, current, total)`; the last call has `current === total`. */
  onProgress?: BodyProgressCallback;
  /** Bytes read from a file at a time (default 1 MiB). */
  blockSize?: number;
  /**
   * Files smaller than this many bytes (default 64 KiB) are read whole with one
   * synchronous open/read/close: ten times cheaper than three thread-pool round
   * trips, blocking the event loop for one small read at a time. 0 reads every file asynchronously.
   */
  syncReadLimit?: number;
}

/**
 * A request body that can be streamed again from the start as long as every
 * source is replayable (files, Blobs and in-memory data are; plain streams are not).
 */
const BODY_BRAND = Symbol.for('multipart-poster.UploadBody');

/** True for an UploadBody from either build (ESM or CommonJS). */
export function isUploadBody(value: unknown): value is UploadBody {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BODY_BRAND] === true;
}

export class UploadBody implements AsyncIterable<Buffer> {
  /** @internal */
  get [BODY_BRAND](): true {
    return true;
  }

  /** Byte count of the body; undefined when a stream of unknown size is in it. */
  readonly length: number | undefined;
  readonly #pieces: readonly Piece<MultipartParam>[];
  readonly #options: BodyOptions & { boundary?: string };

  /** Made by multipartEncode() and rawBody(); not meant to be called directly. */
  constructor(pieces: readonly Piece<MultipartParam>[], options: BodyOptions & { boundary?: string }) {
    this.#pieces = pieces;
    this.#options = options;
    this.length = bodyLength(pieces);
  }

  /** Whether the body can be streamed (again) now: false once a one-shot stream in it has been read. */
  get replayable(): boolean {
    return this.#pieces.every(({ data }) => !isSource(data) || !data.consumed);
  }

  [Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    return streamPieces(this.#pieces, { ...this.#options, total: this.length });
  }

  /**
   * @internal For a consumer that knows when it is done with each chunk (upload()
   * after the socket's write callback): `recycle(chunk)` lets file blocks be read
   * into again. A chunk must not be touched after it is recycled.
   */
  recycling(): { chunks: AsyncGenerator<Buffer, void, undefined>; recycle: (chunk: Buffer) => void } {
    const pool = new BlockPool(this.#options.blockSize ?? DEFAULT_BLOCK_SIZE);
    return { chunks: streamPieces(this.#pieces, { ...this.#options, pool, total: this.length }), recycle: (chunk) => pool.give(chunk) };
  }
}

/** An encoded body ready to send: pass `body` and `headers` to any HTTP client. */
export interface EncodedBody {
  body: UploadBody;
  /** `Content-Type`, and `Content-Length` when the length is known. */
  headers: Record<string, string>;
  /** undefined when a stream of unknown size makes the length unknowable: the body then goes out chunked. */
  contentLength: number | undefined;
}

export interface EncodedForm extends EncodedBody {
  boundary: string;
}

/**
 * poster's `multipart_encode`: the body of a multipart/form-data request, its
 * headers and exact length. Nothing is opened or read until the body is iterated.
 */
export async function multipartEncode(params: ParamsInput, options: EncodeOptions = {}): Promise<EncodedForm> {
  checkOptionKeys(options, ['boundary', 'onProgress', 'blockSize', 'syncReadLimit'], encodeOptionError);
  checkFunction(options.onProgress, 'onProgress', encodeOptionError);
  const chosen = options.boundary !== undefined;
  const boundary = chosen ? options.boundary : genBoundary();
  assertValidBoundary(boundary);
  const blockSize = checkBytes(options.blockSize, 'blockSize', 1);
  const syncReadLimit = checkBytes(options.syncReadLimit, 'syncReadLimit', 0);
  const pieces = planParts(MultipartParam.fromParams(params), boundary);
  const body = new UploadBody(pieces, { blockSize, syncReadLimit, checkBoundary: chosen, boundary, onProgress: options.onProgress });
  return { body, headers: headersFor(formDataContentType(boundary), body.length), contentLength: body.length, boundary };
}

/** poster's `get_body_size`: the body's byte count, computed without reading any file. */
export function getBodySize(params: ParamsInput, boundary: string): number {
  assertValidBoundary(boundary);
  const length = bodyLength(planParts(MultipartParam.fromParams(params), boundary));
  if (length === undefined) {
    throw new MultipartError('ERR_SIZE_UNKNOWN', 'a stream of unknown size is among the params; give its filesize');
  }
  return length;
}

/** poster's `get_headers`: `Content-Type`, and `Content-Length` unless a stream's size is unknown. */
export function getHeaders(params: ParamsInput, boundary: string): Record<string, string> {
  assertValidBoundary(boundary);
  return headersFor(formDataContentType(boundary), bodyLength(planParts(MultipartParam.fromParams(params), boundary)));
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
    throw new MultipartError('ERR_INVALID_VALUE', `fileSize must be a whole number of bytes, not ${describe(fileSize)}`, {
      paramName,
    });
  }
  if (typeof paramName !== 'string') {
    throw new MultipartError('ERR_INVALID_NAME', `a field name must be a string, not ${describe(paramName)}`);
  }
  if (filetype !== undefined) assertHeaderValue(filetype, 'the content type', paramName);
  return partHead(boundary, { name: paramName, filename, contentType: filetype ?? guessType(filename) });
}

export interface RawBodyOptions extends Pick<EncodeOptions, 'blockSize' | 'syncReadLimit'> {
  /** The Content-Type; defaults to a guess from the file's name, else `application/octet-stream`. */
  type?: string;
  /** The byte count of a stream (without it, a stream's body goes out chunked). */
  size?: number;
  onProgress?: BodyProgressCallback;
}

/**
 * A single file or stream as a whole request body, not multipart (a PUT to a
 * presigned URL, say). A string is a file path. The result has the same shape as
 * `multipartEncode`'s, so `upload()` and every HTTP client take it alike.
 */
export async function rawBody(
  source: string | Uint8Array | Blob | StreamLike,
  options: RawBodyOptions = {},
): Promise<EncodedBody> {
  checkOptionKeys(options, ['type', 'size', 'onProgress', 'blockSize', 'syncReadLimit'], encodeOptionError);
  checkFunction(options.onProgress, 'onProgress', encodeOptionError);
  if (options.type !== undefined) assertHeaderValue(options.type, 'the content type');
  const blockSize = checkBytes(options.blockSize, 'blockSize', 1);
  const syncReadLimit = checkBytes(options.syncReadLimit, 'syncReadLimit', 0);
  const param =
    typeof source === 'string'
      ? await MultipartParam.fromFile('body', source, options.type === undefined ? {} : { filetype: options.type })
      : source instanceof Uint8Array
        ? new MultipartParam('body', { value: source, filetype: options.type ?? OCTET_STREAM })
        : new MultipartParam('body', {
            fileobj: source,
            ...(options.type === undefined ? {} : { filetype: options.type }),
            ...(options.size === undefined ? {} : { filesize: options.size }),
          });
  const size = param.size;
  const data = param.data;
  const piece: Piece<MultipartParam> = { part: { owner: param, size }, data, ...(data instanceof Uint8Array ? { planned: data.byteLength } : {}) };
  const body = new UploadBody([piece], { blockSize, syncReadLimit, onProgress: options.onProgress });
  return { body, headers: headersFor(param.filetype ?? OCTET_STREAM, body.length), contentLength: body.length };
}

function headersFor(contentType: string, length: number | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': contentType };
  if (length !== undefined) headers['Content-Length'] = String(length);
  return headers;
}

/** Checks a byte-count option: a whole number, at least `min`. */
function checkBytes(value: number | undefined, option: string, min: number): number | undefined {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= min)) {
    throw new MultipartError('ERR_INVALID_VALUE', `${option} must be a whole number of bytes, at least ${min}, not ${describe(value)}`);
  }
  return value;
}
