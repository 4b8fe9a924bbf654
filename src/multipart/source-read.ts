import { MultipartError } from '../common/errors.js';
import { DelimiterScanner } from './delimiter.js';
import type { ByteSource, ReadSettings } from './sources.js';
import type { Piece } from './wire.js';

/**
 * An iterator over a source that can let go of it while a `next()` is pending: `release()` returns
 * true when that pending `next()` then settles (a web stream's read is cancelled, a Node stream
 * destroyed), false when nothing can make it settle (a caller's async iterator, asked to return).
 */
export interface Releasable {
  release(): boolean;
}

/** Lets go of a source's iterator now (see Releasable); an iterator that is not Releasable settles on its own (a file, a Blob). */
export function releaseChunks(chunks: AsyncIterator<unknown>): boolean {
  const release = (chunks as Partial<Releasable>).release;
  return typeof release === 'function' ? release.call(chunks) : true;
}

/** What a pass over the body is reading, so that a consumer that leaves can let go of it (see BodyChunks). */
export class PassState {
  /** The source read now, if any. */
  current: SourceRead | undefined;
  /** The consumer left: the pass reads nothing more. */
  released = false;

  /** Lets go of the source being read; true when the pass then settles (see Releasable). */
  release(): boolean {
    this.released = true;
    return this.current?.release() ?? true;
  }
}

/**
 * One pass over a source: its chunks kept from the caller's reuse, counted against its size,
 * scanned for delimiters. With `holdLast` (the source is the body's last piece), the chunk that
 * completes the declared size is held back until the source has ended as declared: a source that
 * then yields more, or fails, fails the body before its last byte goes out.
 */
export class SourceRead {
  readonly #source: ByteSource;
  readonly #label: string | undefined;
  readonly #scanners: DelimiterScanner[] | undefined;
  readonly #chunks: AsyncIterator<Uint8Array>;
  readonly #holdLast: boolean;
  readonly #pass: PassState;
  #seen = 0;
  #held: Uint8Array | undefined;
  /** A `next()` is pending. */
  #waiting = false;
  /** The source's iterator finished by itself (done): it is not returned. */
  #ended = false;

  constructor(source: ByteSource, piece: Piece<unknown>, reading: ReadSettings, holdLast: boolean, pass: PassState) {
    this.#source = source;
    this.#pass = pass;
    this.#label = piece.part?.label;
    this.#scanners = piece.scanFor?.map((boundary) => new DelimiterScanner(boundary, this.#label));
    this.#holdLast = holdLast && source.size !== undefined;
    this.#chunks = source.read(reading, this.#label)[Symbol.asyncIterator]();
  }

  /** The source's next chunk, as it gives it (no promise of ours around it); none once the consumer left. */
  next(): Promise<IteratorResult<Uint8Array>> {
    // The consumer may leave between two chunks, while the pass is between awaits of its own.
    if (this.#pass.released) return Promise.resolve({ done: true, value: undefined });
    this.#waiting = true;
    return this.#chunks.next();
  }

  /** A chunk the source gave, to send now; undefined when it is held back (see `holdLast`). */
  take(read: Uint8Array): Uint8Array | undefined {
    this.#waiting = false;
    // A caller's stream may reuse its buffer once asked for the next chunk; the bytes we still hold must not change.
    const chunk = this.#source.borrowsChunks ? Buffer.from(read) : read;
    if (this.#held !== undefined && chunk.length === 0) return undefined;
    this.#seen += chunk.length;
    const { size } = this.#source;
    if (size !== undefined && this.#seen > size) throw this.#sizeChanged('grew to more than');
    if (this.#scanners !== undefined) for (const scanner of this.#scanners) scanner.scan(chunk);
    if (this.#holdLast && this.#seen === size) {
      this.#held = chunk;
      return undefined;
    }
    return chunk;
  }

  /** The source ended (done): checks its size, and returns the chunk held back, if any. */
  end(): Uint8Array | undefined {
    this.#waiting = false;
    this.#ended = true;
    const { size } = this.#source;
    if (size !== undefined && this.#seen !== size) throw this.#sizeChanged('shrank to');
    const held = this.#held;
    this.#held = undefined;
    return held;
  }

  /** Lets go of the source while a chunk is awaited (see Releasable); between chunks, `close()` does. */
  release(): boolean {
    return this.#waiting ? releaseChunks(this.#chunks) : true;
  }

  /** Leaving before the source ended (a failure, the consumer gone): its iterator is returned, which releases it. */
  async close(): Promise<void> {
    this.#held = undefined;
    if (this.#ended) return;
    this.#ended = true;
    await this.#chunks.return?.();
  }

  #sizeChanged(how: string): MultipartError {
    const source = this.#source;
    return new MultipartError(
      'ERR_SIZE_MISMATCH',
      `${source.description} ${how} ${this.#seen} bytes while being sent; ${source.size} were declared in Content-Length`,
      { paramName: this.#label },
    );
  }
}

/**
 * A pass over the body, as an async generator whose `return()` lets go at once: an async
 * generator queues `return()` behind a pending `next()`, so a consumer that leaves while a
 * caller's stream is silent (a cancelled `toReadableStream()`, upload()'s abort) would wait for
 * a chunk that may never come, and the stream would stay open. Here the source is released
 * first (a web stream cancelled, a Node stream destroyed), which settles the pending `next()`;
 * a caller's plain async iterator cannot be made to settle: it is asked to return, and
 * `return()` does not wait for it.
 */
export class BodyChunks<T> implements AsyncGenerator<T, void, undefined> {
  readonly #pass: AsyncGenerator<T, void, undefined>;
  readonly #state: PassState;

  constructor(start: (state: PassState) => AsyncGenerator<T, void, undefined>) {
    this.#state = new PassState();
    this.#pass = start(this.#state);
  }

  next(): Promise<IteratorResult<T, void>> {
    return this.#pass.next();
  }

  return(): Promise<IteratorResult<T, void>> {
    const settles = this.#state.release();
    const closing = this.#pass.return(undefined);
    if (settles) return closing;
    closing.catch(() => {}); // it runs once the pending next() settles, if it ever does
    return Promise.resolve({ done: true, value: undefined });
  }

  throw(error: unknown): Promise<IteratorResult<T, void>> {
    return this.#pass.throw(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
