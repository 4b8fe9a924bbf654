import { onFirstUse } from '../common/lazy.js';
import type { BatchResponse, DecodeBatchOptions } from './batch.js';
import { batchStart } from './batch-start.js';
import type { ByteRange } from './byteranges.js';
import type { MultipartDecoder } from './decode.js';
import type { DecodeOptions } from './options.js';
import type { DecodedPart } from './part.js';
import { byteRangesStart } from './ranges-start.js';
import type { ChunkSource, DecodeSource } from './source.js';
import { decodeStart, type DecodeStart } from './start.js';

// The parser and what reads through it are a chunk of their own, loaded by the first call: the
// checks of options and source stay here, so that each function throws at once as it always did.
const decoder = onFirstUse(() => import('./loaded.js'));

/**
 * Splits a multipart body into its parts as it streams. The boundary comes from
 * `options.boundary`, else `options.contentType`, else the source's own Content-Type. Options
 * and the source are checked here (a DecodeError is thrown at once); the body's errors come from
 * next() and from the parts' bodies.
 */
export function multipartDecode(source: DecodeSource, options?: DecodeOptions): MultipartDecoder {
  const start = decodeStart(source, options);
  const loaded = decoder.loaded;
  if (loaded !== undefined) return loaded.decoderOver(start);
  return new DeferredDecoder(
    start,
    decoder().then((module) => module.decoderOver(start)),
  );
}

/**
 * The answers of a batch request (Google's batch endpoints, OData `$batch`): a multipart/mixed
 * body of `application/http` parts, each turned into a Response, in order; an OData changeset
 * (a multipart/mixed part) gives its responses in turn. Each inner response is held whole (up to
 * maxResponseBytes) before it is yielded.
 */
export function decodeBatch(source: DecodeSource, options?: DecodeBatchOptions): AsyncIterableIterator<BatchResponse> {
  const start = batchStart(source, options);
  const loaded = decoder.loaded;
  if (loaded !== undefined) return loaded.batchOf(start);
  return new DeferredIterator(
    start.parts.chunks,
    decoder().then((module) => module.batchOf(start)),
  );
}

/**
 * The ranges of a 206 Partial Content answer: each part of a multipart/byteranges body, or the
 * whole body of a single-range answer (its own Content-Range). Anything but a 206 is
 * ERR_UNEXPECTED_STATUS (a 200 means the server sent the whole resource instead).
 */
export function decodeByteRanges(source: DecodeSource, options?: DecodeOptions): AsyncIterableIterator<ByteRange> {
  const start = byteRangesStart(source, options);
  const loaded = decoder.loaded;
  if (loaded !== undefined) return loaded.rangesOf(start);
  const chunks = start.multipart !== undefined ? start.multipart.chunks : start.single.chunks;
  return new DeferredIterator(
    chunks,
    decoder().then((module) => module.rangesOf(start)),
  );
}

/**
 * An iterator whose real one is made once its module has loaded. Calls made before then wait for
 * it and reach it in the order they were made; should the load fail, each rejects with its error
 * and the source is let go.
 */
class DeferredIterator<T> implements AsyncIterableIterator<T> {
  #inner: AsyncIterator<T> | undefined;
  #waiting = 0;
  readonly #ready: Promise<AsyncIterator<T>>;

  constructor(chunks: ChunkSource, inner: Promise<AsyncIterator<T>>) {
    this.#ready = inner.then(
      (made) => (this.#inner = made),
      async (error: unknown) => {
        await chunks.close();
        throw error;
      },
    );
    // Rejections reach each call; one never made must not be an unhandled rejection.
    this.#ready.catch(() => {});
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    return this.#call((inner) => inner.next() as Promise<IteratorResult<T, undefined>>);
  }

  return(): Promise<IteratorResult<T, undefined>> {
    return this.#call(
      (inner) =>
        (inner.return?.() as Promise<IteratorResult<T, undefined>> | undefined) ??
        Promise.resolve({ done: true, value: undefined }),
    );
  }

  throw(error?: unknown): Promise<IteratorResult<T, undefined>> {
    return this.#call(
      (inner) => (inner.throw?.(error) as Promise<IteratorResult<T, undefined>> | undefined) ?? Promise.reject(error),
    );
  }

  #call<R>(action: (inner: AsyncIterator<T>) => Promise<R>): Promise<R> {
    if (this.#inner !== undefined && this.#waiting === 0) return action(this.#inner);
    this.#waiting++;
    return this.#ready.then(
      (inner) => {
        this.#waiting--;
        return action(inner);
      },
      (error: unknown) => {
        this.#waiting--;
        throw error;
      },
    );
  }
}

/** A MultipartDecoder before its parser is loaded: the boundary and media type are known already. */
class DeferredDecoder extends DeferredIterator<DecodedPart> implements MultipartDecoder {
  readonly boundary: string;
  readonly mediaType: string | undefined;

  constructor(start: DecodeStart, inner: Promise<MultipartDecoder>) {
    super(start.chunks, inner);
    this.boundary = start.boundary;
    this.mediaType = start.mediaType;
  }
}
