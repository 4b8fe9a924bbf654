import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { lookup } from 'mime-types';
import { assertValidBoundary } from './boundary.js';
import { MultipartError } from './errors.js';
import { assertHeaderValue } from './escape.js';
import { describe } from './validate.js';
import { BlobSource, FileSource, isStreamLike, knownStreamSize, StreamSource, type ByteSource, type StreamLike } from './sources.js';
import { isSource, partHead, type PartData, type PartFields } from './wire.js';
import { assertNoBoundaryInData, encodePart, DEFAULT_BLOCK_SIZE, type BodyOptions } from './stream.js';

/** Progress of a part or a body: bytes consumed so far, and the total (undefined when unknown). */
export type ProgressCallback = (param: MultipartParam, current: number, total: number | undefined) => void;

/** What a file part can stream from, besides a path (`MultipartParam.fromFile`). */
export type FileObject = Blob | StreamLike;

export interface MultipartParamOptions {
  /** The field's data: a string is sent as UTF-8, bytes as they are. */
  value?: string | Uint8Array;
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
}

export interface FromFileOptions {
  /** The filename sent; defaults to the path's basename. */
  filename?: string;
  /** The Content-Type sent; defaults to a guess from the filename sent. */
  filetype?: string;
  cb?: ProgressCallback;
}

/** A value accepted for a field in `fromParams` / `multipartEncode` inputs. */
export type FieldValue = string | number | bigint | boolean | Uint8Array | ArrayBuffer | FileObject | MultipartParam;

/** Everything `fromParams` (and so `multipartEncode`) accepts. */
export type ParamsInput =
  | Iterable<MultipartParam | readonly [string, FieldValue]>
  | FormData
  | Map<string, FieldValue | readonly FieldValue[]>
  | { readonly [name: string]: FieldValue | readonly FieldValue[] };

export const OCTET_STREAM = 'application/octet-stream';

/**
 * The ESM and CommonJS builds each define the classes; a brand shared through the
 * global symbol registry lets objects made by one build be taken by the other.
 */
const PARAM_BRAND = Symbol.for('multipart-poster.MultipartParam');

export function isMultipartParam(value: unknown): value is MultipartParam {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PARAM_BRAND] === true;
}

/**
 * One part of a multipart form: a plain field, or a file part (one with a
 * `filename` or a `fileobj`), which always carries a Content-Type.
 */
export class MultipartParam {
  readonly name: string;
  readonly filename: string | undefined;
  /** The Content-Type this part is sent with; undefined for a plain field without one. */
  readonly filetype: string | undefined;
  readonly cb: ProgressCallback | undefined;
  #data: PartData;

  /** @internal */
  get [PARAM_BRAND](): true {
    return true;
  }

  constructor(name: string, options: MultipartParamOptions = {}) {
    if (typeof name !== 'string') {
      throw new MultipartError('ERR_INVALID_NAME', `a field name must be a string, not ${describe(name)}`);
    }
    const { value, fileobj, filesize, cb } = options;
    let { filename, filetype } = options;
    if (value !== undefined && fileobj !== undefined) {
      throw new MultipartError('ERR_VALUE_AND_FILEOBJ', 'give either a value or a fileobj, not both', { paramName: name });
    }
    checkOptionalString(filename, 'filename', name);
    checkOptionalString(filetype, 'filetype', name);
    if (filetype !== undefined) assertHeaderValue(filetype, 'the content type', name);
    if (cb !== undefined && typeof cb !== 'function') {
      throw new MultipartError('ERR_INVALID_VALUE', `cb must be a function, not ${describe(cb)}`, { paramName: name });
    }
    if (filesize !== undefined && !(Number.isSafeInteger(filesize) && filesize >= 0)) {
      throw new MultipartError('ERR_INVALID_VALUE', `filesize must be a whole number of bytes, not ${describe(filesize)}`, {
        paramName: name,
      });
    }

    if (fileobj instanceof Blob) {
      // A nameless Blob goes out as browsers and FormData send it: filename="blob".
      if (filename === undefined) filename = fileobj instanceof File ? fileobj.name : 'blob';
      if (filetype === undefined && fileobj.type !== '' && !/[\r\n]/.test(fileobj.type)) filetype = fileobj.type;
      if (filesize !== undefined) checkDeclaredSize(filesize, fileobj.size, name);
      this.#data = new BlobSource(fileobj);
    } else if (fileobj !== undefined) {
      if (!isStreamLike(fileobj)) {
        throw new MultipartError(
          'ERR_INVALID_VALUE',
          `fileobj must be a Blob, a Readable, a ReadableStream or an async iterable of bytes, not ${describe(fileobj)}` +
            (typeof fileobj === 'string' ? ' (for a path, use MultipartParam.fromFile)' : ''),
          { paramName: name },
        );
      }
      this.#data = new StreamSource(fileobj, filesize ?? knownStreamSize(fileobj));
    } else if (value === undefined || typeof value === 'string' || value instanceof Uint8Array) {
      const data = value === undefined ? '' : fixedLength(value);
      if (filesize !== undefined) checkDeclaredSize(filesize, typeof data === 'string' ? Buffer.byteLength(data) : data.length, name);
      this.#data = data;
    } else {
      throw new MultipartError('ERR_INVALID_VALUE', `value must be a string or bytes, not ${describe(value)}`, { paramName: name });
    }

    const isFile = filename !== undefined || fileobj !== undefined;
    this.name = name;
    this.filename = filename;
    this.filetype = filetype ?? (isFile ? guessType(filename) : undefined);
    this.cb = cb;
  }

  /** A file part read from `path` when its bytes are needed. Only `stat` runs now. */
  static async fromFile(paramName: string, path: string, options: FromFileOptions = {}): Promise<MultipartParam> {
    let stats;
    try {
      stats = await stat(path);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new MultipartError('ERR_FILE_UNREADABLE', `cannot read file ${JSON.stringify(path)}: ${reason}`, {
        paramName,
        cause,
      });
    }
    if (!stats.isFile()) {
      throw new MultipartError('ERR_FILE_UNREADABLE', `${JSON.stringify(path)} is not a regular file`, { paramName });
    }
    const param = new MultipartParam(paramName, {
      filename: options.filename ?? basename(path),
      ...(options.filetype === undefined ? {} : { filetype: options.filetype }),
      ...(options.cb === undefined ? {} : { cb: options.cb }),
    });
    param.#data = new FileSource(path, stats.size, stats);
    return param;
  }

  /**
   * Turns any accepted input into a list of params: a list mixing `[name, value]`
   * pairs and params, a mapping (an array value means several parts of that name),
   * or a WHATWG FormData. A param given under a key must carry that key's name.
   */
  static fromParams(params: ParamsInput): MultipartParam[] {
    if (typeof params !== 'object' || params === null || typeof params === 'string') {
      throw new MultipartError('ERR_INVALID_PARAMS', `params must be a list, a mapping or a FormData, not ${describe(params)}`);
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
      else {
        throw new MultipartError('ERR_INVALID_PARAMS', `each item must be a MultipartParam or a [name, value] pair, not ${describe(item)}`);
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
    const data = this.#data;
    if (typeof data === 'string') return Buffer.byteLength(data);
    return data instanceof Uint8Array ? data.length : data.size;
  }

  /** Whether the part can be encoded again (false once a one-shot stream has been read). */
  get replayable(): boolean {
    return !isSource(this.#data) || !this.#data.consumed;
  }

  /** @internal The data as the wire walk sees it. */
  get data(): PartData {
    return this.#data;
  }

  /** @internal What the part's header block is made of. */
  get fields(): PartFields {
    return { name: this.name, filename: this.filename, contentType: this.filetype };
  }

  /** The part's header block: from `--boundary` to the blank line that ends the headers. */
  encodeHdr(boundary: string): string {
    assertValidBoundary(boundary);
    return partHead(boundary, this.fields);
  }

  /**
   * The whole part as bytes. Only for data held in memory: a file or stream part
   * throws ERR_NOT_IN_MEMORY rather than read a file whole (use `iterEncode`).
   */
  encode(boundary: string): Buffer {
    assertValidBoundary(boundary);
    const data = this.#data;
    if (isSource(data)) {
      throw new MultipartError('ERR_NOT_IN_MEMORY', `its data comes from a ${data.description}; stream it with iterEncode()`, {
        paramName: this.name,
      });
    }
    assertNoBoundaryInData(data, boundary, this.name);
    return Buffer.concat([Buffer.from(partHead(boundary, this.fields)), Buffer.from(data), Buffer.from('\r\n')]);
  }

  /** The part's bytes as a stream of Buffers, files read `blockSize` bytes at a time; `cb` reports progress. */
  iterEncode(boundary: string, blockSize: number = DEFAULT_BLOCK_SIZE): AsyncIterable<Buffer> {
    assertValidBoundary(boundary);
    const options: BodyOptions = { blockSize, checkBoundary: true };
    return encodePart(this, boundary, options);
  }

  /** Bytes of the whole part for this boundary. Throws ERR_SIZE_UNKNOWN for a stream of unknown size. */
  getSize(boundary: string): number {
    assertValidBoundary(boundary);
    const size = this.size;
    if (size === undefined) {
      throw new MultipartError('ERR_SIZE_UNKNOWN', 'the size of its stream is not known; give filesize', { paramName: this.name });
    }
    return Buffer.byteLength(partHead(boundary, this.fields)) + size + 2;
  }

  /**
   * poster's `reset()`: ready the param to be encoded again from the start. Files,
   * Blobs and in-memory data always are; a stream that was read throws ERR_SOURCE_CONSUMED.
   */
  reset(): void {
    if (!this.replayable) {
      throw new MultipartError('ERR_SOURCE_CONSUMED', 'its stream was already read and cannot be rewound', { paramName: this.name });
    }
  }
}

/**
 * A view whose length cannot follow its buffer: a view over a resizable ArrayBuffer
 * tracks the buffer's length, so growing it would push bytes past Content-Length.
 */
function fixedLength<T extends string | Uint8Array>(value: T): T {
  if (typeof value === 'string' || !(value.buffer as { resizable?: boolean }).resizable) return value;
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength) as T;
}

function toParam(name: unknown, value: FieldValue): MultipartParam {
  if (typeof name !== 'string') {
    throw new MultipartError('ERR_INVALID_NAME', `a field name must be a string, not ${describe(name)}`);
  }
  if (isMultipartParam(value)) {
    if (value.name !== name) {
      throw new MultipartError('ERR_INVALID_PARAMS', `the param given under this name is named ${JSON.stringify(value.name)}`, {
        paramName: name,
      });
    }
    return value;
  }
  if (typeof value === 'string' || value instanceof Uint8Array) return new MultipartParam(name, { value });
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return new MultipartParam(name, { value: String(value) });
  }
  if (value instanceof ArrayBuffer) return new MultipartParam(name, { value: new Uint8Array(value) });
  if (value instanceof Blob || isStreamLike(value)) return new MultipartParam(name, { fileobj: value });
  throw new MultipartError('ERR_INVALID_VALUE', `unsupported value ${describe(value)}`, { paramName: name });
}

export function guessType(filename: string | undefined): string {
  return (filename === undefined ? false : lookup(filename)) || OCTET_STREAM;
}

function checkOptionalString(value: unknown, what: string, paramName: string): void {
  if (value !== undefined && typeof value !== 'string') {
    throw new MultipartError('ERR_INVALID_VALUE', `${what} must be a string, not ${describe(value)}`, { paramName });
  }
}

function checkDeclaredSize(declared: number, actual: number, paramName: string): void {
  if (declared !== actual) {
    throw new MultipartError('ERR_SIZE_MISMATCH', `filesize ${declared} does not match the data's ${actual} bytes`, { paramName });
  }
}


export type { ByteSource };
