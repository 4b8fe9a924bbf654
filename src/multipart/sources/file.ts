import { open, type FileHandle } from 'node:fs/promises';
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { MultipartError } from '../../common/errors.js';
import type { BlockPool } from './pool.js';
import { unreadable, type ByteSource, type ReadSettings } from './source.js';

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

  /** The file as it was measured: a different file at the path, or a changed one, is refused. */
  private readonly measured: Measured;

  constructor(
    readonly path: string,
    measured: Measured,
    start = 0,
    readonly size = measured.size - start,
  ) {
    // The four numbers, not the Stats object: 2,000 files would each keep a Stats while their body lives.
    const { size: whole, dev, ino, mtimeMs } = measured;
    this.measured = { size: whole, dev, ino, mtimeMs };
    this.#start = start;
    this.#toEnd = start + size === whole;
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
    let total = 0;
    try {
      while (pending !== undefined) {
        const { buffer, bytesRead, position } = await pending;
        pending = undefined;
        if (bytesRead === 0) break;
        const end = position + bytesRead;
        total = end;
        // A full read may have more behind it; a short one ends the file, unless it
        // came before the expected end (then the next read tells). A range that ends
        // before the file does stops at its end.
        const more = this.#toEnd ? bytesRead === buffer.length || end < this.size : end < this.size;
        if (more) pending = this.#readBlock(handle, end, blockSize, pool, paramName);
        yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
      }
      // Before the source says it has ended, the file is looked at again: one rewritten in place
      // while it was read (its mtime moved) fails the body before its end (a raw body holds its
      // last chunk until then; a multipart body has its closing delimiter still to send). A file
      // that read short or long is the reader's to report (the size it expected).
      if (total === this.size) this.assertUnchanged(await this.#statOpen(handle, paramName), paramName);
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

  #statOpen(handle: FileHandle, paramName: string | undefined): Promise<Stats> {
    return handle.stat().catch((cause: unknown) => {
      throw unreadable(this.description, cause, paramName);
    });
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
