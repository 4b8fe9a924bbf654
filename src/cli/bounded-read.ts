import { close, constants, fstat, open, read } from 'node:fs';
import { Socket } from 'node:net';
import { promisify } from 'node:util';

/**
 * The most a `name=<file` value may hold: 16 MiB. Such a value is a text field,
 * read whole into memory before anything is sent (curl reads it whole too), so
 * without a limit `<` `/dev/zero` grows until memory runs out. 16 MiB is far
 * beyond any text a form field carries (HTML forms post a few KiB, servers cap
 * fields at 1 MiB or less) yet small enough that a few of them cost nothing;
 * anything larger is a file and belongs in `name=@file`, which is streamed.
 */
export const CONTENTS_LIMIT = 16 * 1024 * 1024;

const openFd = promisify(open);
const fstatFd = promisify(fstat);
const readFd = promisify(read);
const closeFd = promisify(close);
const READ_SIZE = 64 * 1024;

export interface ReadOptions {
  /** Most bytes accepted (default CONTENTS_LIMIT). */
  limit?: number;
  /** Stops the read (a FIFO nobody writes to, say) with the signal's reason. */
  signal?: AbortSignal;
}

/** More bytes than the limit: the message says what to do instead. */
export class TooLarge extends Error {
  override name = 'TooLarge';
  constructor(
    readonly what: string,
    readonly limit: number,
  ) {
    const size = limit % (1024 * 1024) === 0 ? `${limit / (1024 * 1024)} MiB` : `${limit} bytes`;
    super(
      `${JSON.stringify(what)} holds more than ${size}, the most a text field read with < may hold; send it as a file with @ instead`,
    );
  }
}

/**
 * Reads a file, a device, a FIFO or a pipe (`<(command)`) whole, but never more
 * than `limit` bytes: it fails past them, having read at most `limit + 1` bytes
 * of a file or device. Throws the fs error (ENOENT, EISDIR...) as it comes.
 */
export async function readLimited(path: string, options: ReadOptions = {}): Promise<Buffer> {
  const { limit = CONTENTS_LIMIT, signal } = options;
  signal?.throwIfAborted();
  // O_NONBLOCK: opening a FIFO does not wait for a writer here (a read does, below, where a signal can end the wait).
  let fd = await openFd(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await fstatFd(fd);
    if (stat.isFIFO() || stat.isSocket()) {
      const owned = fd;
      fd = -1; // the pipe handle owns it now, and closes it
      return await readPipe(owned, path, limit, signal);
    }
    if (stat.isFile() && stat.size > limit) throw new TooLarge(path, limit);
    if (!stat.isFile()) {
      // A device: read it blocking (a terminal without O_NONBLOCK waits for input instead of failing with EAGAIN).
      await closeFd(fd);
      fd = -1;
      fd = await openFd(path, constants.O_RDONLY);
    }
    return await readFdLimited(fd, path, limit, signal);
  } finally {
    if (fd >= 0) await closeFd(fd).catch(() => {});
  }
}

/** A file or device, read by descriptor up to `limit + 1` bytes. */
async function readFdLimited(fd: number, path: string, limit: number, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    signal?.throwIfAborted();
    const buffer = Buffer.allocUnsafe(Math.min(READ_SIZE, limit + 1 - total));
    const { bytesRead } = await readFd(fd, buffer, 0, buffer.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(buffer.subarray(0, bytesRead));
    total += bytesRead;
    if (total > limit) throw new TooLarge(path, limit);
  }
}

/**
 * A FIFO or socket, read through a libuv pipe handle: the wait for data happens in
 * the event loop, not in a blocked thread, so an abort ends it and the process can
 * exit. A read may take up to 64 KiB past the limit from the pipe; it is dropped.
 */
function readPipe(fd: number, path: string, limit: number, signal: AbortSignal | undefined): Promise<Buffer> {
  const socket = new Socket({ fd, readable: true, writable: false });
  return readStream(socket, path, { limit, signal, release: () => socket.destroy() });
}

export interface StreamReadOptions extends ReadOptions {
  /** Lets go of the stream once the read is over, whichever way it ended. */
  release: () => void;
}

/**
 * A stream (a pipe's socket, standard input) read to its end, never past `limit` bytes (a
 * TooLarge then), nor past `signal` (its reason); `release` lets go of the stream either way.
 */
export function readStream(stream: NodeJS.ReadableStream, what: string, options: StreamReadOptions): Promise<Buffer> {
  const { limit = CONTENTS_LIMIT, signal, release } = options;
  if (signal?.aborted) {
    release();
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let finished = false;
    // The 'error' listener stays: an error after the read is over (standard input closed under it) is no crash.
    const finish = (error: unknown) => {
      if (finished) return;
      finished = true;
      signal?.removeEventListener('abort', onAbort);
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      release();
      if (error === undefined) resolve(Buffer.concat(chunks, total));
      else reject(error);
    };
    const onAbort = () => finish(signal!.reason);
    const onEnd = () => finish(undefined);
    const onData = (chunk: Buffer) => {
      if (total + chunk.length > limit) return finish(new TooLarge(what, limit));
      chunks.push(chunk);
      total += chunk.length;
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.on('error', finish);
  });
}
