import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { MultipartError } from '../../common/errors.js';
import { lazily } from '../../common/lazy.js';
import { messageOf } from '../../common/messages.js';
import type { Releasable } from '../source-read.js';
import { describeChunk, resultFields, returnQuietly, type ByteSource, type ReadSettings } from './source.js';

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
  #start(paramName: string | undefined): Opened {
    if (this.consumed) throw consumedError(paramName);
    this.#consumed = true;
    STREAMS_READ.add(this.stream);
    const stream = this.stream;
    if (typeof ReadableStream !== 'undefined' && stream instanceof ReadableStream) {
      if (stream.locked) {
        throw new MultipartError('ERR_SOURCE_FAILED', 'its ReadableStream is locked to another reader', { paramName });
      }
      // Its reader, not its async iterator: cancelling a reader settles a pending read, while the
      // iterator's return() waits behind it (a silent socket would never be let go of).
      return readerOf(stream.getReader());
    }
    const chunks = (stream as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    if (isNodeReadable(stream)) return { chunks, letGo: () => (stream.destroy(), true) };
    // A plain async iterator: return() is all it can be asked, and an async generator runs it only
    // after a pending next() settles. It is not waited for.
    return {
      chunks,
      letGo: () => {
        try {
          void Promise.resolve(chunks.return?.()).catch(() => {});
        } catch {
          // a return() that throws: nothing more can be done
        }
        return false;
      },
    };
  }
}

/** A caller's stream, opened: its chunks, and how to let go of it while a chunk is awaited (see Releasable). */
interface Opened {
  chunks: AsyncIterator<unknown>;
  letGo(): boolean;
}

function readerOf(reader: ReadableStreamDefaultReader<unknown>): Opened {
  const cancel = () => reader.cancel().catch(() => {});
  return {
    chunks: {
      next: () => reader.read(),
      return: async () => {
        await cancel();
        return { done: true, value: undefined };
      },
    },
    letGo: () => (void cancel(), true),
  };
}

/** One pass over a caller's stream: each chunk checked; leaving early (return, a bad chunk) releases the stream. */
class StreamChunks implements AsyncIterator<Uint8Array>, Releasable {
  #opened: Opened | undefined;
  /** The caller's iterator finished (done, failed, returned or let go of): it is not returned again. */
  #ended = false;
  /** Let go of while a chunk was awaited: what that chunk's read then gives is the end. */
  #released = false;
  readonly #paramName: string | undefined;
  readonly #open: () => Opened;

  constructor(paramName: string | undefined, open: () => Opened) {
    this.#paramName = paramName;
    this.#open = open;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    try {
      this.#opened ??= this.#open();
      return this.#opened.chunks.next().then(this.#checked, this.#failed);
    } catch (error) {
      // Opening failed, or the caller's next() threw instead of rejecting.
      return Promise.reject(error as Error).then(undefined, this.#failed);
    }
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.#ended) {
      this.#ended = true;
      if (this.#opened !== undefined) await returnQuietly(this.#opened.chunks);
    }
    return { done: true, value: undefined };
  }

  /** Lets go of the caller's stream at once, even while a chunk is awaited (see Releasable). */
  release(): boolean {
    if (this.#ended) return true;
    this.#ended = this.#released = true;
    return this.#opened?.letGo() ?? true;
  }

  readonly #checked = (
    result: IteratorResult<unknown>,
  ): IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>> => {
    // A hand-written next() may resolve to anything: only an object is an iterator result.
    if (typeof result !== 'object' || result === null) {
      return this.#refuse('ERR_SOURCE_FAILED', `its stream failed: next() gave ${describeChunk(result)}, not a result`);
    }
    let fields: ReturnType<typeof resultFields>;
    try {
      fields = resultFields(result);
    } catch (cause) {
      return this.#refuse('ERR_SOURCE_FAILED', `its stream failed: its result threw: ${messageOf(cause)}`, cause);
    }
    if (fields.done || this.#released) {
      this.#ended = true;
      return { done: true, value: undefined };
    }
    const chunk = fields.value;
    if (chunk instanceof Uint8Array) return { done: false, value: chunk };
    if (typeof chunk === 'string') return { done: false, value: Buffer.from(chunk, 'utf8') };
    return this.#refuse('ERR_INVALID_VALUE', `the stream yielded a ${describeChunk(chunk)}, not bytes`);
  };

  /** Fails the read: what the caller's stream gave cannot be sent. Refusing it releases the stream. */
  #refuse(code: 'ERR_INVALID_VALUE' | 'ERR_SOURCE_FAILED', message: string, cause?: unknown): Promise<never> {
    const error = new MultipartError(code, message, {
      paramName: this.#paramName,
      ...(cause === undefined ? {} : { cause }),
    });
    return this.return().then(() => Promise.reject(error));
  }

  readonly #failed = (cause: unknown): IteratorResult<Uint8Array> => {
    this.#ended = true; // a failed iterator is finished
    if (this.#released) return { done: true, value: undefined }; // the stream destroyed because we let go of it
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
