import fs, { statSync, type ReadStream, type Stats } from 'node:fs';
import { MultipartError } from '../common/errors.js';
import { FileSource, StreamSource, type ByteSource, type ReadSettings } from '../multipart/sources.js';

/** Events through which a caller watches a stream's data: with one of them attached, the form reads the stream itself. */
const WATCHING = ['data', 'readable', 'end', 'close'] as const;

/**
 * An `fs.ReadStream` (or its byte range) as a file part: measured by `stat` at once, so the body's
 * length is known without opening anything, and read from its path when its part is reached. The
 * caller's stream opened its file as it was made: unless the caller watches it (a `data`, `readable`,
 * `end` or `close` listener attached by the next tick), it is closed then, so that 10,000 of them
 * hold no descriptors; a watched one is read as it is, once, and the file from its path after that.
 * Undefined when the stream cannot be taken over (no path, partly read, another `fs` implementation,
 * not a regular file): it is then read as any stream.
 */
export function takeOverReadStream(stream: ReadStream, field: string): ReadStreamSource | undefined {
  const { path } = stream;
  if (
    typeof path !== 'string' ||
    stream.bytesRead !== 0 ||
    stream.destroyed ||
    stream.readableEnded ||
    usesOtherFs(stream)
  )
    return undefined;
  let measured: Stats | undefined;
  let failure: unknown;
  try {
    measured = statSync(path);
  } catch (cause) {
    failure = cause;
  }
  if (measured !== undefined && !measured.isFile()) return undefined;
  return new ReadStreamSource(stream, path, measured, failure, field);
}

/** A stream made with its own `fs` option reads something else than the disk at its path. */
function usesOtherFs(stream: ReadStream): boolean {
  const key = Object.getOwnPropertySymbols(stream).find((symbol) => symbol.description === 'kFs');
  return key !== undefined && (stream as unknown as Record<symbol, unknown>)[key] !== fs;
}

function ignore(): void {}

type Construct = (callback: (error?: Error | null) => void) => void;

interface HeldOpen {
  /** Whether its open is held back (so it cannot fail). */
  readonly holding: boolean;
  /** Lets the stream open its file (`open`), or lets it be destroyed without ever having opened it. */
  release(open: boolean): void;
}

/** Streams appended in this tick: decided together on the next one (one tick for 10,000 of them). */
const undecided = new Set<ReadStreamSource>();

function decideSoon(source: ReadStreamSource): void {
  if (undecided.size === 0) {
    process.nextTick(() => {
      const sources = [...undecided];
      undecided.clear();
      for (const pending of sources) pending.decide();
    });
  }
  undecided.add(source);
}

/**
 * An `fs.ReadStream` opens its file on the tick after it is made, through its `_construct` hook (the
 * documented one stream implementations provide). Made in the tick it is appended in, as form-data asks,
 * its open is held back here until the form decides: 10,000 of them then open nothing at all, instead of
 * opening and closing 10,000 files at once. A stream whose open had started already is not held.
 */
function holdOpen(stream: ReadStream): HeldOpen {
  const own = stream as unknown as { _construct?: Construct; fd?: unknown };
  const construct = own._construct;
  if (
    typeof construct !== 'function' ||
    !stream.pending ||
    typeof own.fd === 'number' ||
    Object.hasOwn(stream, '_construct')
  ) {
    return { holding: false, release: () => {} };
  }
  let waiting: ((error?: Error | null) => void) | undefined;
  own._construct = (callback) => void (waiting = callback);
  return {
    holding: true,
    release(open) {
      if (!Object.hasOwn(stream, '_construct')) return;
      const callback = waiting;
      waiting = undefined;
      if (callback === undefined) {
        // Its construction has not begun (it was made after an earlier append() of the tick): when it
        // does, it opens as any stream would, or completes without a file.
        if (open) delete own._construct;
        else own._construct = (done) => done();
        return;
      }
      delete own._construct;
      if (open) construct.call(stream, callback);
      else callback(); // constructed without a file, so destroy() has nothing to close
    },
  };
}

export class ReadStreamSource implements ByteSource {
  readonly consumed = false;
  readonly borrowsChunks = false;
  readonly description: string;
  readonly #stream: ReadStream;
  readonly #start: number;
  /** Inclusive, as fs.createReadStream counts; Infinity for the file's end. */
  readonly #end: number;
  #measured: Stats | undefined;
  #failure: unknown;
  /** Whether the caller's stream is read (once) instead of the path: it is watched. */
  #keep: boolean | undefined;
  readonly #held: HeldOpen;

  constructor(
    stream: ReadStream,
    readonly path: string,
    measured: Stats | undefined,
    failure: unknown,
    readonly field: string,
  ) {
    this.#stream = stream;
    // Not in @types/node, but set by fs.createReadStream from its options (undefined when not given).
    const { start, end } = stream as ReadStream & { start?: unknown; end?: unknown };
    this.#start = typeof start === 'number' ? start : 0;
    this.#end = typeof end === 'number' ? end : Infinity;
    this.#measured = measured;
    this.#failure = failure;
    this.description = `file ${JSON.stringify(path)}`;
    this.#held = holdOpen(stream);
    // An open that had started may fail (EMFILE when thousands are made at once): the form reads the path itself.
    if (!this.#held.holding) stream.on('error', ignore);
    decideSoon(this);
  }

  /** Leaves the caller's stream as it was: append() failed after all. */
  abandon(): void {
    this.#keep = false;
    this.#stream.off('error', ignore);
    this.#held.release(true);
    undecided.delete(this);
  }

  /** Bytes of the range; undefined only while the file could not be measured (plan() then fails with why). */
  get size(): number | undefined {
    const measured = this.#measured;
    if (measured === undefined) return undefined;
    const last = Math.min(this.#end, measured.size - 1);
    return Math.max(last - this.#start + 1, 0);
  }

  /** Measures the file again if it could not be measured at append(); throws why it cannot be read. */
  check(): void {
    if (this.#measured !== undefined) return;
    try {
      this.#measured = statSync(this.path);
      if (!this.#measured.isFile()) throw new Error('not a regular file');
    } catch (cause) {
      this.#measured = undefined;
      this.#failure = cause;
      const reason = cause instanceof Error ? cause.message : String(this.#failure);
      throw new MultipartError('ERR_FILE_UNREADABLE', `cannot read ${this.description}: ${reason}`, {
        paramName: this.field,
        cause,
      });
    }
  }

  async *read(settings: ReadSettings, paramName: string | undefined): AsyncGenerator<Uint8Array> {
    this.#decide();
    this.check();
    const stream = this.#stream;
    if (this.#keep && !stream.destroyed && !stream.readableEnded && stream.bytesRead === 0) {
      this.#keep = false; // read once: later passes read the path
      yield* new StreamSource(stream, this.size).read(settings, paramName);
      return;
    }
    yield* new FileSource(this.path, this.#measured!, this.#start, this.size).read(settings, paramName);
  }

  /** @internal */
  decide(): void {
    this.#decide();
  }

  #decide(): void {
    if (this.#keep !== undefined) return;
    const stream = this.#stream;
    this.#keep = WATCHING.some((event) => stream.listenerCount(event) > 0);
    if (!this.#keep) stream.destroy();
    this.#held.release(this.#keep);
  }
}
