import { mkdirSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onAbort } from '../common/abort.js';
import { MultipartError } from '../common/errors.js';
import { messageOf } from '../common/messages.js';
import { checkByteCount, checkOptionKeys, checkString, type OptionRegistry } from '../common/validate.js';
import { crypto } from '../common/lazy.js';
import { keptPrivate } from './bytes.js';
import { FileSource, type ByteSource } from './sources.js';
import { releaseChunks } from './source-read.js';
import { removeSpooled, trackSpoolFile } from './spool-files.js';
import { isSource, withData, type Part } from './wire.js';

export { removeSpooled, spoolFilesLeft } from './spool-files.js';

/** Where a one-shot stream is copied so the body gets an exact length and can be sent again. */
export interface SpoolOptions {
  /** Streams up to this many bytes stay in memory (default 1 MiB); larger ones go to a temporary file. */
  memoryLimit?: number;
  /** The most a stream may hold (default 10 GiB); beyond it, ERR_SPOOL_LIMIT. */
  maxBytes?: number;
  /** The directory for temporary files (default `os.tmpdir()`). */
  dir?: string;
}

export interface SpoolSettings {
  memoryLimit: number;
  maxBytes: number;
  dir: string | undefined;
}

export const SPOOL_DEFAULTS = { memoryLimit: 1024 * 1024, maxBytes: 10 * 1024 ** 3 };

const SPOOL_OPTION_KEYS: OptionRegistry<SpoolOptions> = { memoryLimit: true, maxBytes: true, dir: true };

/** The `spool` option checked: undefined (no spooling), `true` (the defaults) or SpoolOptions. */
export function spoolSettings(option: unknown, fail: (message: string) => Error): SpoolSettings | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return { ...SPOOL_DEFAULTS, dir: undefined };
  const given = checkOptionKeys(option as SpoolOptions, SPOOL_OPTION_KEYS, fail, 'spool');
  return {
    memoryLimit: checkByteCount(given.memoryLimit, 'spool.memoryLimit', fail) ?? SPOOL_DEFAULTS.memoryLimit,
    maxBytes: checkByteCount(given.maxBytes, 'spool.maxBytes', fail) ?? SPOOL_DEFAULTS.maxBytes,
    dir: spoolDir(given.dir, fail),
  };
}

/** `spool.dir`: a path, not empty (an empty one names no directory: it would fail only once a stream is spooled). */
function spoolDir(dir: unknown, fail: (message: string) => Error): string | undefined {
  const checked = checkString(dir, 'spool.dir', fail);
  if (checked === '') throw fail('spool.dir must name a directory, not be empty');
  return checked;
}

/**
 * Each one-shot stream among the parts read to its end and replaced by its bytes or a temporary
 * file; on failure, nothing is left behind (the files of parts spooled before are removed too).
 */
export async function spoolParts<Owner>(
  parts: Part<Owner>[],
  settings: SpoolSettings | undefined,
  files: string[],
  signal: AbortSignal | undefined,
): Promise<Part<Owner>[]> {
  if (settings === undefined) return parts;
  const out: Part<Owner>[] = [];
  try {
    for (const part of parts) {
      const { data } = part;
      if (!isSource(data) || data.oneShot !== true) out.push(part);
      else out.push(withData(part, await spool(data, settings, part.name ?? undefined, files, signal)));
    }
  } catch (error) {
    await removeSpooled(files);
    throw error;
  }
  return out;
}

/**
 * Reads a one-shot source to its end: into memory up to `memoryLimit`, then into a temporary file
 * (mode 0600), written in large blocks however small the stream's chunks. A stream that fails,
 * passes `maxBytes` or its declared size, or is aborted, leaves nothing behind and is released
 * (its iterator returned, a Node stream destroyed).
 */
export async function spool(
  source: ByteSource,
  settings: SpoolSettings,
  label: string | undefined,
  files: string[],
  signal?: AbortSignal,
): Promise<Uint8Array | FileSource> {
  const reads = source.read({ blockSize: SPOOL_DEFAULTS.memoryLimit, syncReadLimit: 0 }, label)[Symbol.asyncIterator]();
  const next = abortableNext(reads, signal);
  const sink = new SpoolSink(settings, source.size, label);
  try {
    for (let result = await next(); !result.done; result = await next()) {
      const writing = sink.add(result.value);
      if (writing !== undefined) await writing; // most chunks are only copied: no turn of the microtask queue for them
    }
    const copy = await sink.finish();
    if (copy instanceof FileSource) files.push(copy.path);
    return copy;
  } catch (error) {
    // The caller's stream is let go of at once, not waited for (one that never answers must not hold
    // the failure back): a Node stream destroyed, a web stream's reader cancelled (which settles a
    // pending read), so a socket no longer keeps the process alive. A plain async iterator can only
    // be asked to return, which an async generator does once its pending next() settles.
    releaseChunks(reads);
    await sink.discard();
    if (error instanceof MultipartError || (signal?.aborted && error === signal.reason)) throw error;
    // The caller's stream fails only with MultipartErrors (ERR_SOURCE_FAILED, its cause kept): anything
    // else is the spool's own disk (a full disk, a dir that is a file or was removed, no permission).
    throw new MultipartError(
      'ERR_SPOOL_FAILED',
      `spooling its stream to a temporary file failed: ${messageOf(error)}`,
      {
        paramName: label,
        cause: error,
      },
    );
  } finally {
    next.done();
  }
}

type Next = (() => Promise<IteratorResult<Uint8Array>>) & { done(): void };

/**
 * `reads.next()`, cut short by the signal: a stream that never yields again must not hold the
 * caller past it (upload()'s timeout). One abort listener for the whole stream, not one per chunk.
 */
function abortableNext(reads: AsyncIterator<Uint8Array>, signal: AbortSignal | undefined): Next {
  if (signal === undefined) return Object.assign(() => reads.next(), { done: () => {} });
  let rejectPending: ((reason: unknown) => void) | undefined;
  const unsubscribe = onAbort(signal, () => rejectPending?.(signal.reason));
  const next = () => {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
      rejectPending = reject;
      reads.next().then(resolve, reject);
    });
  };
  return Object.assign(next, { done: unsubscribe });
}

/** Chunks gathered before one write to the file: one write (and one thread-pool trip) per block, not per chunk. */
const WRITE_BYTES = 1024 * 1024;

/**
 * Where a spooled stream's bytes go. Small chunks are copied into a block (the caller may reuse
 * its buffers); a full block is kept in memory while the stream is within `memoryLimit`, then
 * written to the file while the next block fills. A large chunk is taken on its own.
 */
class SpoolSink {
  readonly #settings: SpoolSettings;
  readonly #declared: number | undefined;
  readonly #label: string | undefined;
  /** Full blocks and large chunks, in order, while everything is in memory. */
  #held: Buffer[] = [];
  #total = 0;
  #path: string | undefined;
  #file: FileHandle | undefined;
  #block: Buffer | undefined;
  #used = 0;
  /** The block last written to the file, to gather into again. */
  #spare: Buffer | undefined;

  constructor(settings: SpoolSettings, declared: number | undefined, label: string | undefined) {
    this.#settings = settings;
    this.#declared = declared;
    this.#label = label;
  }

  /** Takes a chunk: a promise while something is written to the file, undefined when it was only copied. */
  add(chunk: Uint8Array): Promise<void> | undefined {
    this.#total += chunk.length;
    this.#checkLimits();
    if (this.#file === undefined && this.#total > this.#settings.memoryLimit) {
      return this.#open().then(() => this.#put(chunk));
    }
    return this.#put(chunk);
  }

  /** The bytes (a stream within memoryLimit) or the file they were written to. */
  async finish(): Promise<Uint8Array | FileSource> {
    if (this.#declared !== undefined && this.#total !== this.#declared) {
      throw new MultipartError(
        'ERR_SIZE_MISMATCH',
        `its stream held ${this.#total} bytes, not the ${this.#declared} declared`,
        {
          paramName: this.#label,
        },
      );
    }
    if (this.#file === undefined) {
      const last = this.#block?.subarray(0, this.#used) ?? Buffer.alloc(0);
      return keptPrivate(Buffer.concat([...this.#held, last], this.#total));
    }
    await this.#flush();
    await this.#file.close();
    this.#file = undefined;
    const path = this.#path!;
    const copy = new FileSource(path, await stat(path));
    trackSpoolFile(path, copy); // the file lives as long as its source: removed when the source is collected
    return copy;
  }

  /** Closes and removes the file of a spool that failed. */
  async discard(): Promise<void> {
    this.#held = [];
    this.#block = this.#spare = undefined;
    await this.#file?.close().catch(() => {});
    this.#file = undefined;
    if (this.#path !== undefined) await removeSpooled([this.#path]);
  }

  /** Stops one chunk past a limit: never more than a chunk beyond `maxBytes` or the declared size is read. */
  #checkLimits(): void {
    const { maxBytes } = this.#settings;
    if (this.#total > maxBytes) {
      throw new MultipartError(
        'ERR_SPOOL_LIMIT',
        `its stream holds more than the ${maxBytes} bytes spool.maxBytes allows`,
        {
          paramName: this.#label,
        },
      );
    }
    if (this.#declared !== undefined && this.#total > this.#declared) {
      throw new MultipartError('ERR_SIZE_MISMATCH', `its stream holds more than the ${this.#declared} bytes declared`, {
        paramName: this.#label,
      });
    }
  }

  /** Past memoryLimit: the file is made, and what memory held goes into it first. */
  async #open(): Promise<void> {
    const dir = this.#settings.dir ?? tmpdir();
    mkdirSync(dir, { recursive: true });
    this.#path = join(dir, `multipart-poster-spool-${process.pid}-${crypto().randomBytes(8).toString('hex')}`);
    trackSpoolFile(this.#path); // removed on exit or a fatal signal even before it is complete
    this.#file = await open(this.#path, 'wx', 0o600);
    const held = this.#held;
    this.#held = [];
    for (const bytes of held) await this.#writeAll(bytes);
  }

  #put(chunk: Uint8Array): Promise<void> | undefined {
    if (chunk.length >= WRITE_BYTES / 2) {
      const flushing = this.#flush();
      if (this.#file === undefined) return void this.#held.push(Buffer.from(chunk)); // a copy: the caller may reuse its buffer
      // Written before the next chunk is asked for: the caller's buffer is free again after.
      return flushing === undefined ? this.#writeAll(chunk) : flushing.then(() => this.#writeAll(chunk));
    }
    const flushing = this.#used + chunk.length > WRITE_BYTES ? this.#flush() : undefined;
    if (this.#block === undefined) {
      this.#block = this.#spare ?? Buffer.allocUnsafe(WRITE_BYTES);
      this.#spare = undefined;
    }
    this.#block.set(chunk, this.#used);
    this.#used += chunk.length;
    return flushing;
  }

  /** Hands on the gathered block (kept in memory, or written while the next one fills). */
  #flush(): Promise<void> | undefined {
    const block = this.#block;
    if (block === undefined || this.#used === 0) return undefined;
    const bytes = block.subarray(0, this.#used);
    this.#block = undefined;
    this.#used = 0;
    if (this.#file === undefined) return void this.#held.push(bytes);
    return this.#writeAll(bytes).then(() => {
      this.#spare = block;
    });
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length;) {
      const { bytesWritten } = await this.#file!.write(bytes, at, bytes.length - at);
      at += bytesWritten;
    }
  }
}
