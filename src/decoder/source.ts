import type { Readable } from 'node:stream';
import { describe } from '../common/validate.js';
import { messageOf } from '../common/messages.js';
import { quietly } from '../common/quietly.js';
import { DecodeError } from './errors.js';

/** What the parser pulls from: one chunk at a time, only when it needs more. */
export interface ChunkSource {
  /** The next chunk (never empty), or null at the end. A failure of the source is thrown as it came. */
  read(): Promise<Buffer | null>;
  /** Stops reading and lets the source go; never throws nor rejects (the source's own cleanup runs `quietly`). */
  close(): Promise<void>;
}

/** What multipartDecode() reads: a Node Readable, a WHATWG Response or ReadableStream, an (async) iterable of bytes, a Blob, or bytes. */
export type DecodeSource =
  | Readable
  | NodeJS.ReadableStream
  | ReadableStream<Uint8Array>
  | Response
  | Blob
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>
  | Uint8Array
  | ArrayBuffer;

const EMPTY = Buffer.alloc(0);

function asBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk);
  throw new DecodeError(
    'ERR_INVALID_SOURCE',
    `the source gave ${describe(chunk)} where bytes were expected (a stream with an encoding set gives text)`,
  );
}

/** The Content-Type a source carries itself: a Response's or a request's header, a decoded part's type. */
export function ownContentType(source: unknown): string | undefined {
  try {
    return contentTypeOf(source);
  } catch (cause) {
    throw sourceFailed(cause);
  }
}

/** What the caller's code threw while its source was looked at: ERR_SOURCE_FAILED, the throw its cause. */
function sourceFailed(cause: unknown): DecodeError {
  return new DecodeError('ERR_SOURCE_FAILED', `the source failed: ${messageOf(cause)}`, { cause });
}

function contentTypeOf(source: unknown): string | undefined {
  if (typeof source !== 'object' || source === null) return undefined;
  const { headers, contentType } = source as { headers?: unknown; contentType?: unknown };
  if (typeof headers === 'object' && headers !== null) {
    if (typeof (headers as Headers).get === 'function') return (headers as Headers).get('content-type') ?? undefined;
    const value = (headers as Record<string, unknown>)['content-type'];
    if (typeof value === 'string') return value;
  }
  return typeof contentType === 'string' ? contentType : undefined;
}

const isObject = (value: unknown): value is Record<PropertyKey, unknown> => typeof value === 'object' && value !== null;
const isReadable = (value: Record<PropertyKey, unknown>) =>
  typeof value.read === 'function' && typeof value.on === 'function' && typeof value.pipe === 'function';

/**
 * Adapts any supported source, or throws ERR_INVALID_SOURCE. Getting at its bytes runs the
 * caller's code (a getter, `[Symbol.asyncIterator]()`, a Blob's `stream()`): what that throws is
 * ERR_SOURCE_FAILED, its error the cause.
 */
export function chunkSource(source: unknown): ChunkSource {
  try {
    return adapt(source);
  } catch (cause) {
    if (cause instanceof DecodeError) throw cause;
    throw sourceFailed(cause);
  }
}

function adapt(source: unknown): ChunkSource {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return bytesSource(asBuffer(source));
  if (!isObject(source) && typeof source !== 'function') throw invalidSource(source);
  const value = source as Record<PropertyKey, unknown>;
  if (isReadable(value)) return readableSource(source as unknown as Readable);
  if ('body' in value && isObject(value.headers)) {
    // A WHATWG Response (of any implementation): its body, or nothing.
    if (value.bodyUsed === true) throw new DecodeError('ERR_INVALID_SOURCE', 'the Response body was already read');
    return value.body === null || value.body === undefined
      ? bytesSource(EMPTY)
      : webStreamSource(value.body as ReadableStream<Uint8Array>);
  }
  if (typeof value.getReader === 'function') return webStreamSource(source as unknown as ReadableStream<Uint8Array>);
  if (typeof value.stream === 'function' && typeof value.arrayBuffer === 'function')
    return webStreamSource((source as unknown as Blob).stream());
  if (typeof value[Symbol.asyncIterator] === 'function')
    return iteratorSource(iteratorOf((source as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator]()));
  if (typeof value[Symbol.iterator] === 'function' && typeof source !== 'string')
    return syncIteratorSource(iteratorOf((source as unknown as Iterable<unknown>)[Symbol.iterator]()));
  throw invalidSource(source);
}

/** What an iterable's factory returned, if it is an iterator (an object with next()), else ERR_INVALID_SOURCE. */
function iteratorOf<T extends Iterator<unknown> | AsyncIterator<unknown>>(iterator: T): T {
  if (isObject(iterator) && typeof iterator.next === 'function') return iterator;
  throw new DecodeError(
    'ERR_INVALID_SOURCE',
    `the source's iterator method returned ${describe(iterator)}, not an iterator with a next() method`,
  );
}

const invalidSource = (source: unknown) =>
  new DecodeError(
    'ERR_INVALID_SOURCE',
    `cannot read a body from ${describe(source)}: give a Readable, a Response, a ReadableStream, an iterable of bytes, a Blob or bytes`,
  );

function bytesSource(bytes: Buffer): ChunkSource {
  let given = bytes.length === 0;
  return {
    read: async () => (given ? null : ((given = true), bytes)),
    close: async () => void (given = true),
  };
}

function iteratorSource(iterator: AsyncIterator<unknown>): ChunkSource {
  let done = false;
  // An async generator's return() waits for its pending next(): closing ends a waiting read itself.
  let wake: (() => void) | undefined;
  const next = () =>
    new Promise<IteratorResult<unknown> | null>((resolve, reject) => {
      wake = () => resolve(null);
      iterator.next().then(
        (step) => {
          wake = undefined;
          resolve(step);
        },
        (error: unknown) => {
          wake = undefined;
          reject(error);
        },
      );
    });
  return {
    async read() {
      while (!done) {
        const step = await next();
        if (step === null || step.done) done = true;
        else {
          const chunk = asBuffer(step.value);
          if (chunk.length > 0) return chunk;
        }
      }
      return null;
    },
    async close() {
      if (done) return;
      done = true;
      wake?.();
      await quietly(() => iterator.return?.());
    },
  };
}

/** A source over `next()` steps (a sync iterator's, a web stream reader's): empty chunks skipped, `release` run once on close. */
function stepSource(
  next: () => IteratorResult<unknown> | Promise<IteratorResult<unknown>>,
  release: () => unknown,
): ChunkSource {
  let done = false;
  return {
    async read() {
      while (!done) {
        const step = await next();
        if (step.done) done = true;
        else {
          const chunk = asBuffer(step.value);
          if (chunk.length > 0) return chunk;
        }
      }
      return null;
    },
    async close() {
      if (done) return;
      done = true;
      await quietly(release);
    },
  };
}

function syncIteratorSource(iterator: Iterator<unknown>): ChunkSource {
  return stepSource(
    () => iterator.next(),
    () => iterator.return?.(),
  );
}

function webStreamSource(stream: ReadableStream<Uint8Array>): ChunkSource {
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = stream.getReader();
  } catch (cause) {
    throw new DecodeError('ERR_INVALID_SOURCE', 'the ReadableStream is locked or already read', { cause });
  }
  return stepSource(
    () => reader.read(),
    () => reader.cancel(),
  );
}

/**
 * A Node Readable pulled with read(): nothing flows until the parser asks, whatever the Node
 * version's stream internals do with large first chunks. Closing a server's request resumes it
 * (the rest is discarded, so that the server can still answer) instead of destroying its socket.
 */
function readableSource(stream: Readable): ChunkSource {
  let failure: { error: unknown } | undefined;
  let ended = false;
  let closed = false;
  let wake: (() => void) | undefined;
  // Listeners set once (not per wait: adding and removing them per chunk costs more than the chunk's parsing).
  const onReadable = () => wake?.();
  const onError = (error: unknown) => {
    failure ??= { error };
    wake?.();
  };
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  stream.on('readable', onReadable);
  stream.on('end', onEnd);
  stream.on('close', onReadable);
  stream.on('error', onError);
  if (stream.errored) onError(stream.errored);
  if (stream.readableEnded) ended = true;
  const wait = () =>
    new Promise<void>((resolve) => {
      wake = () => {
        wake = undefined;
        resolve();
      };
    });
  return {
    async read() {
      for (;;) {
        if (closed) return null;
        if (failure) throw failure.error;
        const chunk: unknown = stream.read();
        if (chunk !== null) {
          const bytes = asBuffer(chunk);
          if (bytes.length > 0) return bytes;
          continue;
        }
        if (ended) return null;
        if (stream.errored) throw stream.errored;
        if (stream.destroyed) throw new Error('the stream was closed before its end');
        await wait();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      // A read waiting for data ends now; with no 'readable' listener left, resume() can let the rest flow.
      wake?.();
      await quietly(() => {
        stream.off('readable', onReadable);
        stream.off('end', onEnd);
        stream.off('close', onReadable);
        // onError stays: a late failure is still handled once no one reads.
        if (!ended && typeof (stream as { method?: unknown }).method === 'string') stream.resume();
        else if (!ended) stream.destroy();
      });
    },
  };
}
