import { quietly } from '../../common/quietly.js';
import { MultipartError } from '../../common/errors.js';
import { messageOf } from '../../common/messages.js';
import type { BlockPool } from './pool.js';

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

/** A source whose bytes could not be read (a file gone, a Blob whose file changed). */
export function unreadable(description: string, cause: unknown, paramName: string | undefined): MultipartError {
  return new MultipartError('ERR_FILE_UNREADABLE', `cannot read ${description}: ${messageOf(cause)}`, {
    paramName,
    cause,
  });
}

/**
 * An iterator result's fields as `for await` reads them: `done` once, then `value` once and only
 * when not done. A caller's getter may throw (thrown here) or answer a second read differently.
 */
export function resultFields(result: object): { done: true } | { done: false; value: unknown } {
  if ((result as { done?: unknown }).done) return { done: true };
  return { done: false, value: (result as { value?: unknown }).value };
}

/** A chunk that is not bytes, for the message that refuses it. */
export function describeChunk(chunk: unknown): string {
  return chunk === null ? 'null' : typeof chunk;
}

/**
 * Asks a caller's iterator to return, whatever its `return()` does (see `quietly`). Leaving a
 * source must neither fail, nor hang, nor replace the error that left it.
 */
export function returnQuietly(chunks: AsyncIterator<unknown>): Promise<void> {
  return quietly(() => chunks.return?.());
}
