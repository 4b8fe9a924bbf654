import { MultipartError } from '../../common/errors.js';
import { messageOf } from '../../common/messages.js';
import type { Releasable } from '../source-read.js';
import {
  describeChunk,
  resultFields,
  returnQuietly,
  unreadable,
  type ByteSource,
  type ReadSettings,
} from './source.js';

/**
 * What a Blob or File is recognised by: its shape, not its class, so that a `File` from
 * formdata-node, undici, Bun or a polyfill is taken like Node's own.
 */
export interface BlobLike {
  readonly size: number;
  readonly type: string;
  stream(): ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
  slice(start?: number, end?: number, contentType?: string): BlobLike;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export function isBlobLike(value: unknown): value is BlobLike {
  if (typeof value !== 'object' || value === null) return false;
  const blob = value as Partial<Record<keyof BlobLike, unknown>>;
  try {
    return isBlobShaped(blob);
  } catch {
    return false; // a getter that throws: not a Blob we can read
  }
}

function isBlobShaped(blob: Partial<Record<keyof BlobLike, unknown>>): boolean {
  return (
    typeof blob.size === 'number' &&
    typeof blob.type === 'string' &&
    typeof blob.stream === 'function' &&
    typeof blob.slice === 'function' &&
    typeof blob.arrayBuffer === 'function'
  );
}

/** A File-like's name, when it has one (a getter that throws counts as none). */
export function blobName(blob: BlobLike): string | undefined {
  let name: unknown;
  try {
    name = (blob as { name?: unknown }).name;
  } catch {
    return undefined;
  }
  return typeof name === 'string' ? name : undefined;
}

/** A Blob-like's type; a getter that throws or a non-string counts as none. */
export function blobType(blob: BlobLike): string {
  try {
    return typeof blob.type === 'string' ? blob.type : '';
  } catch {
    return '';
  }
}

/** A Blob or File (including `fs.openAsBlob`): sized up front and readable again. */
export class BlobSource implements ByteSource {
  readonly consumed = false;
  readonly description: string;
  /** Taken once: a Blob-like whose `size` changes later cannot change what was declared. */
  readonly size: number;

  constructor(
    readonly blob: BlobLike,
    paramName?: string,
  ) {
    const name = blobName(blob);
    this.description = name === undefined ? 'Blob' : `File ${JSON.stringify(name)}`;
    const size: unknown = blob.size;
    if (!(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)) {
      throw new MultipartError(
        'ERR_INVALID_VALUE',
        `the ${this.description}'s size must be a whole number of bytes, not ${String(size)}`,
        { paramName },
      );
    }
    this.size = size;
  }

  /**
   * The Blob's chunks. A Blob-like's stream may fall silent (a polyfill's, a Blob over a network):
   * the iterator can be let go of while a chunk is awaited (see Releasable), which cancels a web
   * stream's reader and so settles its pending read; an async iterable is asked to return.
   */
  read(_settings: ReadSettings, paramName: string | undefined): AsyncIterable<Uint8Array> {
    return {
      [Symbol.asyncIterator]: () => {
        const opened: Opened = {};
        const release = (): boolean => {
          // Called at once (not awaited): whatever its return() does, it is asked here.
          if (opened.chunks !== undefined) void returnQuietly(opened.chunks);
          return opened.settles ?? true;
        };
        return Object.assign(this.#chunks(paramName, opened), { release }) satisfies Releasable;
      },
    };
  }

  async *#chunks(paramName: string | undefined, opened: Opened): AsyncGenerator<Uint8Array> {
    // A web ReadableStream (Node, undici, Bun, formdata-node), or a polyfill's async iterable.
    let chunks: AsyncIterator<Uint8Array>;
    try {
      const stream = this.blob.stream() as Partial<ReadableStream<Uint8Array> & AsyncIterable<Uint8Array>> | null;
      // Only a reader's cancel() is sure to settle a pending read; an async generator runs return() after it.
      if (typeof stream?.getReader === 'function') {
        chunks = readerChunks(stream.getReader());
        opened.settles = true;
      } else if (typeof stream?.[Symbol.asyncIterator] === 'function') {
        chunks = (stream as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
        opened.settles = false;
      } else throw new TypeError(`stream() gave ${stream === null ? 'null' : typeof stream}, not a ReadableStream`);
    } catch (cause) {
      throw new MultipartError('ERR_SOURCE_FAILED', `the ${this.description} could not be read: ${messageOf(cause)}`, {
        paramName,
        cause,
      });
    }
    opened.chunks = chunks;
    try {
      for (;;) {
        let fields: ReturnType<typeof resultFields>;
        try {
          const result: unknown = await chunks.next();
          // A polyfill's hand-written next() may resolve to anything: only an object is a result.
          if (typeof result !== 'object' || result === null)
            throw new TypeError(`next() gave ${describeChunk(result)}, not a result`);
          fields = resultFields(result);
        } catch (cause) {
          throw unreadable(this.description, cause, paramName);
        }
        if (fields.done) return;
        const chunk = fields.value;
        if (!(chunk instanceof Uint8Array))
          throw new MultipartError(
            'ERR_INVALID_VALUE',
            `the ${this.description} yielded a ${describeChunk(chunk)}, not bytes`,
            { paramName },
          );
        yield chunk;
      }
    } finally {
      await returnQuietly(chunks);
    }
  }
}

/** A pass's Blob stream, once opened, for letting go of it (see Releasable); `settles`: a pending read then settles. */
interface Opened {
  chunks?: AsyncIterator<Uint8Array>;
  settles?: boolean;
}

/** A ReadableStream reader as an iterator; `return()` cancels the stream, which settles a pending read. */
function readerChunks<T>(reader: ReadableStreamDefaultReader<T>): AsyncIterator<T> {
  return {
    next: () => reader.read() as Promise<IteratorResult<T>>,
    return: async () => {
      await reader.cancel().catch(() => {});
      return { done: true, value: undefined };
    },
  };
}
