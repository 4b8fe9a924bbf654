import { statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { MultipartError } from '../../common/errors.js';
import { messageOf } from '../../common/messages.js';
import { describeChunk, type ByteSource, type ReadSettings } from './source.js';

export type StreamLike = Readable | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

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
      (this.stream instanceof Readable && (this.stream.readableEnded || this.stream.destroyed))
    );
  }

  async *read(_settings: ReadSettings, paramName: string | undefined): AsyncGenerator<Uint8Array> {
    if (this.consumed) throw consumedError(paramName);
    this.#consumed = true;
    STREAMS_READ.add(this.stream);
    if (typeof ReadableStream !== 'undefined' && this.stream instanceof ReadableStream && this.stream.locked) {
      throw new MultipartError('ERR_SOURCE_FAILED', 'its ReadableStream is locked to another reader', { paramName });
    }
    const iterable = this.stream as AsyncIterable<unknown>;
    const chunks = iterable[Symbol.asyncIterator]();
    let ended = false;
    try {
      for (;;) {
        let result: IteratorResult<unknown>;
        try {
          result = await chunks.next();
        } catch (cause) {
          ended = true; // a failed iterator is finished
          if (cause instanceof MultipartError) throw cause;
          throw new MultipartError('ERR_SOURCE_FAILED', `its stream failed: ${messageOf(cause)}`, { paramName, cause });
        }
        if (result.done) {
          ended = true;
          return;
        }
        const chunk = result.value;
        if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
        else if (chunk instanceof Uint8Array) yield chunk;
        else
          throw new MultipartError('ERR_INVALID_VALUE', `the stream yielded a ${describeChunk(chunk)}, not bytes`, {
            paramName,
          });
      }
    } finally {
      // Leaving early (the consumer stopped, or a bad chunk) releases the caller's stream.
      if (!ended) await chunks.return?.()?.catch?.(() => {});
    }
  }
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
    value instanceof Readable ||
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
  if (!(stream instanceof Readable) || typeof file.path !== 'string' || file.bytesRead !== 0) return undefined;
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
