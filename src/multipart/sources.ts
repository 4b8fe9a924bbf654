import { open, type FileHandle } from 'node:fs/promises';
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { Readable } from 'node:stream';
import { MultipartError } from '../common/errors.js';
import { messageOf } from '../common/messages.js';

/**
 * Where a part's bytes come from when they are not in memory. A source only
 * streams; the encoder checks that what it streams matches `size`.
 */
export interface ByteSource {
  /** Byte count, or undefined when it cannot be known before reading. */
  readonly size: number | undefined;
  /** True once a one-shot source has been read. */
  readonly consumed: boolean;
  /** True when a yielded chunk stays the caller's, who may reuse it after the next pull: it is copied. */
  readonly borrowsChunks?: boolean;
  /** True for a source that can be read only once (a caller's stream). */
  readonly oneShot?: boolean;
  /** What the source is, for error messages: `file "a.txt"`, `Blob`, `stream`. */
  readonly description: string;
  /** Streams the bytes from the start. Leaving the loop early releases everything it holds. */
  read(settings: ReadSettings, paramName: string | undefined): AsyncIterable<Uint8Array>;
}

export interface ReadSettings {
  /** Bytes read from a file at a time. */
  blockSize: number;
  /** Files smaller than this are read whole with one synchronous open/read/close. */
  syncReadLimit: number;
  /** Where file blocks come from when the consumer hands them back once done (see BlockPool). */
  pool?: BlockPool | undefined;
}

/**
 * A few block-sized buffers to read files into again. Only a consumer that knows
 * when it is done with a chunk (upload(): the socket's write callback) gives
 * chunks back; everyone else gets fresh buffers. Reusing them spares the page
 * faults and garbage collection of a new 1 MiB buffer per block.
 */
export class BlockPool {
  readonly #free: Buffer[] = [];
  /** Only buffers this pool made may come back: a chunk can also be the caller's own bytes. */
  readonly #made = new WeakSet<Uint8Array>();

  constructor(
    readonly blockSize: number,
    private readonly capacity = 4,
  ) {}

  take(size: number): Buffer {
    const reused = size === this.blockSize ? this.#free.pop() : undefined;
    if (reused) return reused;
    const buffer = Buffer.allocUnsafe(size);
    if (size === this.blockSize) this.#made.add(buffer);
    return buffer;
  }

  /** Hands a chunk back; only whole blocks this pool made are kept. */
  give(chunk: Uint8Array): void {
    if (this.#made.has(chunk) && this.#free.length < this.capacity) this.#free.push(chunk as Buffer);
  }
}

/** A file on disk, opened only when its bytes are wanted and closed when they end. */
/** What `stat` said of a file when it was measured for Content-Length. */
export type Measured = Pick<Stats, 'size' | 'dev' | 'ino' | 'mtimeMs'>;

/**
 * A file on disk, or the byte range `[start, start + size)` of one, opened only when its bytes
 * are wanted and closed when they end.
 */
export class FileSource implements ByteSource {
  readonly consumed = false;
  /** Where the read starts, and where it should stop; at the file's end, one byte more is asked for so growth is seen. */
  readonly #start: number;
  readonly #toEnd: boolean;

  constructor(
    readonly path: string,
    /** The file as it was measured: a different file at the path, or a changed one, is refused. */
    private readonly measured: Measured,
    start = 0,
    readonly size = measured.size - start,
  ) {
    this.#start = start;
    this.#toEnd = start + size === measured.size;
  }

  /** Where the range starts in the file. */
  get start(): number {
    return this.#start;
  }

  get description(): string {
    const range = this.#start === 0 && this.#toEnd ? '' : ` (bytes ${this.#start} to ${this.#start + this.size})`;
    return `file ${JSON.stringify(this.path)}${range}`;
  }

  /**
   * Refuses anything but the regular file that was measured: a FIFO or device
   * swapped in after the stat would block a read forever (it was opened
   * O_NONBLOCK, so opening did not). Also what `toBlob()` checks before it hands
   * the path to `fs.openAsBlob`.
   */
  assertUnchanged(stats: Stats, paramName: string | undefined): void {
    const measured = this.measured;
    const why = !stats.isFile()
      ? 'is no longer a regular file'
      : stats.size !== measured.size
        ? `changed size from ${measured.size} to ${stats.size} bytes`
        : stats.ino !== measured.ino || stats.dev !== measured.dev
          ? 'was replaced by another file'
          : stats.mtimeMs !== measured.mtimeMs
            ? 'was modified'
            : undefined;
    if (why !== undefined) {
      throw new MultipartError(
        stats.isFile() ? 'ERR_SIZE_MISMATCH' : 'ERR_FILE_UNREADABLE',
        `${this.description} ${why} since it was measured for Content-Length`,
        { paramName },
      );
    }
  }

  async *read(
    { blockSize, syncReadLimit, pool }: ReadSettings,
    paramName: string | undefined,
  ): AsyncGenerator<Uint8Array> {
    // A small file costs one synchronous open/read/close (microseconds from the page
    // cache) where the thread pool would cost three round trips; it is closed before
    // its bytes are yielded.
    if (this.size < syncReadLimit) {
      const bytes = this.#readWhole(paramName);
      if (bytes.length > 0) yield bytes;
      return;
    }
    const handle = await this.#open(paramName);
    // The next block is read while the consumer handles the current one, so the
    // disk and the socket work at the same time. Positions count from the range's start.
    let pending: Promise<Block> | undefined = this.#readBlock(handle, 0, blockSize, pool, paramName);
    try {
      while (pending !== undefined) {
        const { buffer, bytesRead, position } = await pending;
        pending = undefined;
        if (bytesRead === 0) return;
        const end = position + bytesRead;
        // A full read may have more behind it; a short one ends the file, unless it
        // came before the expected end (then the next read tells). A range that ends
        // before the file does stops at its end.
        const more = this.#toEnd ? bytesRead === buffer.length || end < this.size : end < this.size;
        if (more) pending = this.#readBlock(handle, end, blockSize, pool, paramName);
        yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
      }
    } finally {
      await pending?.catch(() => {});
      await handle.close();
    }
  }

  /**
   * Reads the block at `position` of the range. At the file's expected end it asks for
   * one byte more: getting it means the file grew (the encoder then fails).
   */
  #readBlock(
    handle: FileHandle,
    position: number,
    blockSize: number,
    pool: BlockPool | undefined,
    paramName: string | undefined,
  ): Promise<Block> {
    const size = Math.min(blockSize, Math.max(this.size - position, 0) + (this.#toEnd ? 1 : 0));
    const buffer = pool?.take(size) ?? Buffer.allocUnsafe(size);
    const read = handle.read(buffer, 0, buffer.length, this.#start + position).then(
      ({ bytesRead }) => ({ buffer, bytesRead, position }),
      (cause: unknown) => {
        throw unreadable(this.description, cause, paramName);
      },
    );
    read.catch(() => {}); // handled when awaited; never an unhandled rejection while the consumer is busy
    return read;
  }

  /** Reads the range, and at the file's end one byte past it, so a file that grew is noticed. */
  #readWhole(paramName: string | undefined): Buffer {
    let fd: number;
    try {
      fd = openSync(this.path, OPEN_FLAGS);
    } catch (cause) {
      throw unreadable(this.description, cause, paramName);
    }
    try {
      this.assertUnchanged(fstatSync(fd), paramName);
      const buffer = Buffer.allocUnsafe(this.size + (this.#toEnd ? 1 : 0));
      let length = 0;
      for (let n = -1; n !== 0 && length < buffer.length; length += n)
        n = readSync(fd, buffer, length, buffer.length - length, this.#start + length);
      return buffer.subarray(0, length);
    } catch (cause) {
      if (cause instanceof MultipartError) throw cause;
      throw unreadable(this.description, cause, paramName);
    } finally {
      closeSync(fd);
    }
  }

  async #open(paramName: string | undefined): Promise<FileHandle> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, OPEN_FLAGS);
    } catch (cause) {
      throw unreadable(this.description, cause, paramName);
    }
    try {
      this.assertUnchanged(await handle.stat(), paramName);
    } catch (error) {
      await handle.close();
      throw error instanceof MultipartError ? error : unreadable(this.description, error, paramName);
    }
    return handle;
  }
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

interface Block {
  buffer: Buffer;
  bytesRead: number;
  position: number;
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

  async *read(_settings: ReadSettings, paramName: string | undefined): AsyncGenerator<Uint8Array> {
    // A web ReadableStream (Node, undici, Bun, formdata-node), or a polyfill's async iterable.
    let chunks: AsyncIterator<Uint8Array>;
    try {
      const stream = this.blob.stream() as Partial<ReadableStream<Uint8Array> & AsyncIterable<Uint8Array>> | null;
      if (typeof stream?.getReader === 'function') chunks = readerChunks(stream.getReader());
      else if (typeof stream?.[Symbol.asyncIterator] === 'function')
        chunks = (stream as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      else throw new TypeError(`stream() gave ${stream === null ? 'null' : typeof stream}, not a ReadableStream`);
    } catch (cause) {
      throw new MultipartError(
        'ERR_SOURCE_FAILED',
        `the ${this.description} could not be read: ${cause instanceof Error ? cause.message : String(cause)}`,
        { paramName, cause },
      );
    }
    try {
      for (;;) {
        let result;
        try {
          result = await chunks.next();
        } catch (cause) {
          throw unreadable(this.description, cause, paramName);
        }
        if (result.done) return;
        if (!(result.value instanceof Uint8Array))
          throw new MultipartError(
            'ERR_INVALID_VALUE',
            `the ${this.description} yielded a ${describeChunk(result.value)}, not bytes`,
            { paramName },
          );
        yield result.value;
      }
    } finally {
      await chunks.return?.()?.catch(() => {});
    }
  }
}

/** A ReadableStream reader as an iterator; `return()` cancels the stream. */
function readerChunks<T>(reader: ReadableStreamDefaultReader<T>): AsyncIterator<T> {
  return {
    next: () => reader.read() as Promise<IteratorResult<T>>,
    return: async () => {
      await reader.cancel().catch(() => {});
      return { done: true, value: undefined };
    },
  };
}

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

function describeChunk(chunk: unknown): string {
  return chunk === null ? 'null' : typeof chunk;
}

export function consumedError(paramName: string | undefined): MultipartError {
  return new MultipartError(
    'ERR_SOURCE_CONSUMED',
    'its stream was already read and cannot be sent again; use a file (MultipartParam.fromFile), a Blob or bytes for a body that can be re-sent',
    { paramName },
  );
}

function unreadable(description: string, cause: unknown, paramName: string | undefined): MultipartError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new MultipartError('ERR_FILE_UNREADABLE', `cannot read ${description}: ${reason}`, { paramName, cause });
}

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
