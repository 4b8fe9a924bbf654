import type { Stats } from 'node:fs';
import { basename } from 'node:path';
import { hasBrand, MultipartError } from '../common/errors.js';
import { messageOf } from '../common/messages.js';
import { checkByteRange, checkOptionKeys, describe } from '../common/validate.js';
import { assertValidBoundary } from './boundary.js';
import { paramsFrom, type ParamMaker } from './from-params.js';
import { checkPartHeaders } from './headers.js';
import { guessType } from './mime.js';
import { checkBlockSize } from './options.js';
import {
  checkName,
  checkParamOptions,
  FROM_FILE_OPTIONS,
  paramOptionError,
  type FromFileOptions,
  type MultipartParamOptions,
  type ParamsInput,
  type ProgressCallback,
} from './param-options.js';
import { checkDeclaredSizes, dataType, givenType, partData, partFilename } from './part-data.js';
import { FileSource } from './sources.js';
import { statFew } from './stat.js';
import { DEFAULT_BLOCK_SIZE, DEFAULT_SYNC_READ_LIMIT, streamPieces } from './stream.js';
import {
  bodyLength,
  firstConsumed,
  inMemory,
  isSource,
  partHead,
  sizeOf,
  wirePieces,
  type HeaderLine,
  type Part,
  type PartData,
  type Piece,
} from './wire.js';

export type {
  FieldValue,
  FileObject,
  FromFileOptions,
  MultipartParamOptions,
  ParamsEntry,
  ParamsInput,
  ProgressCallback,
} from './param-options.js';
export type { NestedForm } from './nesting.js';
export { BOUNDARY, PIECES } from './nesting.js';

/**
 * The ESM and CommonJS builds each define the class; keys shared through the global symbol
 * registry let params made by one build be taken by the other.
 */
// The brand is brandOf('MultipartParam'), written out: a unique symbol type keeps it out of the .d.ts.
const PARAM_BRAND = Symbol.for('multipart-poster.MultipartParam');
const PART = Symbol.for('multipart-poster.part');

export function isMultipartParam(value: unknown): value is MultipartParam {
  return hasBrand(value, PARAM_BRAND);
}

/** The wire description of a param, from either build. */
export function partOf(param: MultipartParam): Part<MultipartParam> {
  return (param as unknown as Record<symbol, Part<MultipartParam>>)[PART]!;
}

/** fromFile without options: nothing to check (2,000 calls made at once are 2,000 fewer objects). */
const NO_OPTIONS: FromFileOptions = Object.freeze({});

/** Most parts have no headers of their own: they share one empty list (100,000 fields, 100,000 fewer arrays). */
const NO_HEADERS: HeaderLine[] = Object.freeze([]) as unknown as HeaderLine[];

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

  /** @internal */
  get [PARAM_BRAND](): true {
    return true;
  }

  /**
   * @internal The param is its own wire description (a Part): no second object per field. The
   * wire takes what it sends from it when the body is planned.
   */
  get [PART](): Part<MultipartParam> {
    return this as unknown as Part<MultipartParam>;
  }

  /** @internal Part's name for the type this part is sent with. */
  get contentType(): string | undefined {
    return this.filetype;
  }

  /** @internal The part's data, for the wire. */
  get data(): PartData {
    return this.#data;
  }

  /** @internal Whose progress the part's bytes are: the param's own. */
  get owner(): MultipartParam {
    return this;
  }

  constructor(name: string | null, options: MultipartParamOptions = {}) {
    if (options === TEXT_FIELD) {
      // fromParams' `[name, string]`: a name it checked, a string, nothing else to check (100,000 fields).
      this.name = name;
      this.filename = undefined;
      this.filetype = undefined;
      this.headers = NO_HEADERS;
      this.cb = undefined;
      this.#data = TEXT_FIELD.value;
      return;
    }
    checkName(name);
    const label = name ?? undefined;
    // The caller's options are read once (by the check): the part is made from what was checked.
    const given = checkParamOptions(options, label);
    const { filesize, fileobj } = given;
    const headers = given.headers === undefined ? NO_HEADERS : checkPartHeaders(given.headers, label);
    const data = partData(given, label);
    const filetype = dataType(data, givenType(headers, name, given.filetype, label), label);
    const filename = partFilename(data, given.filename);
    checkDeclaredSizes(data, filesize, headers, label);
    const isFile = filename !== undefined || fileobj !== undefined;
    this.name = name;
    this.filename = filename;
    this.filetype = filetype ?? (isFile ? guessType(filename) : undefined);
    this.headers = headers;
    this.cb = given.cb;
    this.#data = data;
  }

  /**
   * A file part read from `path` when its bytes are needed (or the byte range `start`..`end` of
   * it, as `Blob.slice` counts). Only `stat` runs now.
   */
  static fromFile(
    paramName: string | null,
    path: string,
    options: FromFileOptions = NO_OPTIONS,
  ): Promise<MultipartParam> {
    // What can fail before the stat fails the promise (the executor's throw), never the call.
    return new Promise((resolve, reject) => {
      const label = paramName ?? undefined;
      if (options !== NO_OPTIONS) checkOptionKeys(options, FROM_FILE_OPTIONS, paramOptionError(label));
      if (typeof path !== 'string')
        throw new MultipartError('ERR_INVALID_VALUE', `path must be a string, not ${describe(path)}`, {
          paramName: label,
        });
      statFew(path, (error, stats) => {
        try {
          resolve(MultipartParam.#ofFile(paramName, path, options, measuredFile(path, label, error, stats)));
        } catch (failure) {
          reject(failure);
        }
      });
    });
  }

  /** The file part, once the file is measured. */
  static #ofFile(paramName: string | null, path: string, options: FromFileOptions, stats: Stats): MultipartParam {
    const label = paramName ?? undefined;
    const [start, end] = checkByteRange(options.start, options.end, stats.size, JSON.stringify(path), label);
    const param = new MultipartParam(paramName, {
      filename: options.filename ?? basename(path),
      ...(options.filetype === undefined ? {} : { filetype: options.filetype }),
      ...(options.cb === undefined ? {} : { cb: options.cb }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
    param.#data = new FileSource(path, stats, start, end - start);
    return param;
  }

  /**
   * Turns any accepted input into a list of params: a list mixing params, `[name, value]` pairs
   * and `[name, value, filename]` triples, a mapping (an array value means several parts of that
   * name), or a FormData. A param given under a key must carry that key's name.
   */
  static fromParams(params: ParamsInput): MultipartParam[] {
    return paramsFrom(params, MAKER);
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
    return isSource(data) ? !data.consumed : firstConsumed(data.pieces) === undefined;
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
      const held = inMemory(data);
      bytes.push(typeof held === 'string' ? Buffer.from(held, 'utf8') : held);
    }
    return Buffer.concat(bytes);
  }

  /**
   * The part's bytes as a stream of Buffers; `cb` reports progress. With a `blockSize`, files
   * are read that many bytes at a time and no chunk is larger (poster's `iter_encode`).
   */
  iterEncode(boundary: string, blockSize?: number): AsyncIterable<Buffer> {
    checkBlockSize(blockSize);
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

/** The options a plain text field is made with, reused: the constructor keeps nothing of them. */
const TEXT_FIELD = { value: '' };

const MAKER: ParamMaker = {
  make: (name, options) => new MultipartParam(name, options),
  text(name, value) {
    TEXT_FIELD.value = value;
    const param = new MultipartParam(name, TEXT_FIELD);
    TEXT_FIELD.value = '';
    return param;
  },
  isParam: isMultipartParam,
};

/** What stat said of the file at `path`: a regular file, else ERR_FILE_UNREADABLE. */
function measuredFile(path: string, label: string | undefined, cause: Error | null, stats: Stats | undefined): Stats {
  if (cause !== null || stats === undefined) {
    throw new MultipartError('ERR_FILE_UNREADABLE', `cannot read file ${JSON.stringify(path)}: ${messageOf(cause)}`, {
      paramName: label,
      cause,
    });
  }
  if (!stats.isFile()) {
    throw new MultipartError('ERR_FILE_UNREADABLE', `${JSON.stringify(path)} is not a regular file`, {
      paramName: label,
    });
  }
  return stats;
}

/** The body-level callback the stream calls for each part: the param's own `cb`, whose result (an async cb's promise) is passed on. */
export function reportToCb(param: MultipartParam, current: number, total: number | undefined): unknown {
  return param.cb?.(param, current, total);
}
