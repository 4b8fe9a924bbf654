import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { MultipartError } from '../../common/errors.js';
import { lazily } from '../../common/lazy.js';
import { messageOf } from '../../common/messages.js';
import { describeChunk, type ByteSource, type ReadSettings } from './source.js';

export type StreamLike = Readable | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

const stream = lazily<typeof import('node:stream')>('node:stream');

/** A Node Readable. node:stream loads on the first check, not on the package's import: a caller holding a Readable has loaded it already. */
export const isNodeReadable = (value: unknown): value is Readable => value instanceof stream().Readable;

/** Every caller stream that was read: the same generator given to two parts must not send the second empty. */
const STREAMS_READ = new WeakSet<object>();

/** A stream read once: a Node Readable, a web ReadableStream or any async iterable of bytes. */
export class StreamSource implements ByteSource {
  readonly borrowsChunks = true;
  /** Read once: a body holding it cannot be sent again, unless spooled. */
  readonly oneShot = true;
  readonly description = 'stream';
  #consumed = false;

  constructor(
    readonly stream: StreamLike,
    readonly size: number | undefined,
  ) {}

  get consumed(): boolean {
    return (
      this.#consumed ||
      STREAMS_READ.has(this.stream) ||
      (isNodeReadable(this.stream) && (this.stream.readableEnded || this.stream.destroyed))
    );
  }

  /**
   * The caller's chunks, checked (bytes or text). A hand-written iterator rather than an async
   * generator: a generator layer costs three microtask turns a chunk, and a stream of millions of
   * small rows (spooled standard input) pays them millions of times.
   */
  read(_settings: ReadSettings, paramName: string | undefined): AsyncIterable<Uint8Array> {
    return { [Symbol.asyncIterator]: () => new StreamChunks(paramName, () => this.#start(paramName)) };
  }

  /** Marks the stream read and opens it; throws if it was read before or is locked. */
  #start(paramName: string | undefined): AsyncIterator<unknown> {
    if (this.consumed) throw consumedError(paramName);
    this.#consumed = true;
    STREAMS_READ.add(this.stream);
    if (typeof ReadableStream !== 'undefined' && this.stream instanceof ReadableStream && this.stream.locked) {
      throw new MultipartError('ERR_SOURCE_FAILED', 'its ReadableStream is locked to another reader', { paramName });
    }
    return (this.stream as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  }
}

/** One pass over a caller's stream: each chunk checked; leaving early (return, a bad chunk) releases the stream. */
class StreamChunks implements AsyncIterator<Uint8Array> {
  #chunks: AsyncIterator<unknown> | undefined;
  /** The caller's iterator finished (done, failed or returned): it is not returned again. */
  #ended = false;
  readonly #paramName: string | undefined;
  readonly #open: () => AsyncIterator<unknown>;

  constructor(paramName: string | undefined, open: () => AsyncIterator<unknown>) {
    this.#paramName = paramName;
    this.#open = open;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    if (this.#chunks === undefined) {
      try {
        this.#chunks = this.#open();
      } catch (error) {
        this.#ended = true;
        return Promise.reject(error as Error);
      }
    }
    return this.#chunks.next().then(this.#checked, this.#failed);
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.#ended) {
      this.#ended = true;
      await this.#chunks?.return?.()?.catch?.(() => {});
    }
    return { done: true, value: undefined };
  }

  readonly #checked = (
    result: IteratorResult<unknown>,
  ): IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>> => {
    if (result.done) {
      this.#ended = true;
      return { done: true, value: undefined };
    }
    const chunk = result.value;
    if (chunk instanceof Uint8Array) return result as IteratorResult<Uint8Array>;
    if (typeof chunk === 'string') return { done: false, value: Buffer.from(chunk, 'utf8') };
    const error = new MultipartError('ERR_INVALID_VALUE', `the stream yielded a ${describeChunk(chunk)}, not bytes`, {
      paramName: this.#paramName,
    });
    return this.return().then(() => Promise.reject(error)); // a bad chunk releases the caller's stream
  };

  readonly #failed = (cause: unknown): never => {
    this.#ended = true; // a failed iterator is finished
    if (cause instanceof MultipartError) throw cause;
    throw new MultipartError('ERR_SOURCE_FAILED', `its stream failed: ${messageOf(cause)}`, {
      paramName: this.#paramName,
      cause,
    });
  };
}

export function consumedError(paramName: string | undefined): MultipartError {
  return new MultipartError(
    'ERR_SOURCE_CONSUMED',
    'its stream was already read and cannot be sent again; use a file (MultipartParam.fromFile), a Blob or bytes for a body that can be re-sent',
    { paramName },
  );
}

export function isStreamLike(value: unknown): value is StreamLike {
  return (
    isNodeReadable(value) ||
    (typeof value === 'object' && value !== null && Symbol.asyncIterator in value) ||
    (typeof ReadableStream !== 'undefined' && value instanceof ReadableStream)
  );
}

/**
 * The size of a stream when it can be known without reading it: an `fs.ReadStream`
 * of a regular file (like poster's fstat on a file object).
 */
export function knownStreamSize(stream: StreamLike): number | undefined {
  const file = stream as Partial<{ path: unknown; start: unknown; end: unknown; bytesRead: unknown }>;
  if (!isNodeReadable(stream) || typeof file.path !== 'string' || file.bytesRead !== 0) return undefined;
  let stats;
  try {
    stats = statSync(file.path);
  } catch {
    return undefined;
  }
  if (!stats.isFile()) return undefined;
  const start = typeof file.start === 'number' ? file.start : 0;
  const end =
    typeof file.end === 'number' && Number.isFinite(file.end) ? Math.min(file.end, stats.size - 1) : stats.size - 1;
  return Math.max(end - start + 1, 0);
}
