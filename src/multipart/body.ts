import { hasBrand } from '../common/errors.js';
import type { BodySettings } from './options.js';
import { BOUNDARY, CONTENT_TYPE, PIECES } from './nesting.js';
import type { MultipartParam } from './param.js';
import { BlockPool, FileSource } from './sources.js';
import { removeSpooled } from './spool.js';
import { keepForBlobs } from './spool-files.js';
import { DEFAULT_BLOCK_SIZE, streamPieces } from './stream.js';
import { iterableToReadableStream, piecesToBlob } from './web.js';
import { bodyLength, firstConsumed, type Piece } from './wire.js';

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
  /** Removes the temporary files of a spooled body, and those its `toBlob()` kept (a no-op otherwise); do not read the body after it. */
  dispose(): Promise<void>;
}

export interface EncodedForm extends EncodedBody {
  readonly boundary: string;
}

// brandOf('UploadBody'), written out: a unique symbol type keeps it out of the .d.ts.
const BODY_BRAND = Symbol.for('multipart-poster.UploadBody');

/** True for an UploadBody from either build (ESM or CommonJS). */
export function isUploadBody(value: unknown): value is UploadBody {
  return hasBrand(value, BODY_BRAND);
}

interface Framed {
  readonly boundary: string;
  readonly contentType: string;
}

export class Body implements UploadBody {
  readonly #length: number | undefined;
  readonly #pieces: readonly Piece<MultipartParam>[];
  readonly #settings: BodySettings;
  readonly #framing: Framed | undefined;

  /**
   * `framing`: a multipart body's boundary and Content-Type (a raw body has none), for nesting it in
   * a part; `length`, the pieces' byte count when the plan summed it already (else it is summed here).
   */
  constructor(
    pieces: readonly Piece<MultipartParam>[],
    settings: BodySettings,
    framing?: Framed,
    length: number | undefined | null = null,
  ) {
    this.#pieces = pieces;
    this.#settings = settings;
    this.#length = length === null ? bodyLength(pieces) : length;
    this.#framing = framing;
  }

  /** @internal The boundary the pieces were framed with, for nesting the body. */
  get [BOUNDARY](): string | undefined {
    return this.#framing?.boundary;
  }

  /** @internal The Content-Type the body was encoded with, for nesting it. */
  get [CONTENT_TYPE](): string | undefined {
    return this.#framing?.contentType;
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
    return firstConsumed(this.#pieces) === undefined;
  }

  [Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    return streamPieces(this.#pieces, { ...this.#settings, total: this.length });
  }

  /**
   * @internal For a consumer that knows when it is done with each chunk (upload()
   * after the socket's write callback): `recycle(chunk)` lets file blocks be read
   * into again. A chunk must not be touched after it is recycled. `readSize`: the block size the
   * consumer would rather have, used when the body was encoded with the default one (a size the
   * caller chose is kept). `pool`: blocks shared with other bodies (uploadParts' pieces), so that
   * a new pass reads into blocks already made; its block size is the one read.
   */
  recycling(from: RecyclingFrom = {}): RecyclingChunks {
    const chosen = this.#settings.blockSize !== DEFAULT_BLOCK_SIZE;
    const wanted = from.readSize === undefined || chosen ? this.#settings.blockSize : from.readSize;
    const pool = from.pool ?? new BlockPool(wanted);
    const blockSize = pool.blockSize;
    return {
      chunks: streamPieces(this.#pieces, { ...this.#settings, blockSize, pool, total: this.length }),
      recycle: (chunk) => pool.give(chunk),
    };
  }
}

interface RecyclingChunks {
  chunks: AsyncGenerator<Buffer, void, undefined>;
  recycle: (chunk: Buffer) => void;
}

/** What a consumer of recycled chunks asks for: a read size, or a pool shared with other bodies. */
export interface RecyclingFrom {
  readSize?: number;
  pool?: BlockPool;
}

/** The body's chunks for upload(), whose blocks may be read into again once recycled (a body of either build). */
export function recyclingChunks(body: UploadBody, from: RecyclingFrom = {}): RecyclingChunks {
  return (body as unknown as { recycling(from?: RecyclingFrom): RecyclingChunks }).recycling(from);
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
  const inBlobs: string[] = [];
  return {
    body,
    headers: Object.freeze(headersFor(contentType, body.length)),
    contentLength: body.length,
    toBlob: async () => {
      const blob = await piecesToBlob(pieces, contentType);
      // Blobs made from this one read its files by their paths: the spool files among them (a nested
      // body's too) stay until dispose() or the process's end (see keepForBlobs).
      const files = pieces.flatMap(({ data }) => (data instanceof FileSource ? [data.path] : []));
      inBlobs.push(...keepForBlobs(files));
      return blob;
    },
    toReadableStream: () => iterableToReadableStream(body),
    dispose: () => removeSpooled([...spooled, ...inBlobs]),
  };
}

/** A request's headers for a body: `Content-Type`, and `Content-Length` when the length is known. */
export function headersFor(contentType: string, length: number | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': contentType };
  if (length !== undefined) headers['Content-Length'] = String(length);
  return headers;
}
