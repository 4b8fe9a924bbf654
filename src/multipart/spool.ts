import { mkdirSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MultipartError } from '../common/errors.js';
import { messageOf } from '../common/messages.js';
import { checkByteCount, checkOptionKeys, checkString, type OptionRegistry } from '../common/validate.js';
import { crypto } from './boundary.js';
import { FileSource, StreamSource, type ByteSource } from './sources.js';
import { removeSpooled, trackSpoolFile } from './spool-files.js';
import { isSource, type Part } from './wire.js';

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
    dir: checkString(given.dir, 'spool.dir', fail),
  };
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
      else out.push({ ...part, data: await spool(data, settings, part.name, files, signal) });
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
    for (let result = await next(); !result.done; result = await next()) await sink.add(result.value);
    const copy = await sink.finish();
    if (copy instanceof FileSource) files.push(copy.path);
    return copy;
  } catch (error) {
    release(source, reads);
    await sink.discard();
    if (error instanceof MultipartError || (signal?.aborted && error === signal.reason)) throw error;
    throw new MultipartError('ERR_SOURCE_FAILED', `spooling its stream failed: ${messageOf(error)}`, {
      paramName: label,
      cause: error,
    });
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
  const onAbort = () => rejectPending?.(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const next = () => {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
      rejectPending = reject;
      reads.next().then(resolve, reject);
    });
  };
  return Object.assign(next, { done: () => signal.removeEventListener('abort', onAbort) });
}

/**
 * Lets go of the caller's stream after a failure: its iterator is returned (not awaited: a stream
 * that never answers must not hold the failure back) and a Node stream is destroyed at once, so a
 * child process's stdout or a socket no longer keeps the process alive.
 */
function release(source: ByteSource, reads: AsyncIterator<Uint8Array>): void {
  void reads.return?.(undefined)?.catch(() => {});
  if (source instanceof StreamSource && source.stream instanceof Readable) source.stream.destroy();
}

/** Chunks gathered before one write to the file: one write (and one thread-pool trip) per block, not per chunk. */
const WRITE_BYTES = 1024 * 1024;

/** Where a spooled stream's bytes go: memory, then a file written in WRITE_BYTES blocks. */
class SpoolSink {
  readonly #settings: SpoolSettings;
  readonly #declared: number | undefined;
  readonly #label: string | undefined;
  #held: Buffer[] = [];
  #total = 0;
  #path: string | undefined;
  #file: FileHandle | undefined;
  /** Small chunks copied here (the caller may reuse its buffers) until a block is full. */
  #block: Buffer | undefined;
  #used = 0;

  constructor(settings: SpoolSettings, declared: number | undefined, label: string | undefined) {
    this.#settings = settings;
    this.#declared = declared;
    this.#label = label;
  }

  async add(chunk: Uint8Array): Promise<void> {
    this.#total += chunk.length;
    this.#checkLimits();
    if (this.#file === undefined && this.#total <= this.#settings.memoryLimit) {
      this.#held.push(Buffer.from(chunk)); // a copy: the caller may reuse its buffer
      return;
    }
    if (this.#file === undefined) await this.#open();
    await this.#put(chunk);
  }

  /** The bytes (a stream within memoryLimit) or the file they were written to. */
  async finish(): Promise<Uint8Array | FileSource> {
    if (this.#declared !== undefined && this.#total !== this.#declared) {
      throw new MultipartError(
        'ERR_SIZE_MISMATCH',
        `its stream held ${this.#total} bytes, not the ${this.#declared} declared`,
        { paramName: this.#label },
      );
    }
    if (this.#file === undefined) return Buffer.concat(this.#held, this.#total);
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
    await this.#file?.close().catch(() => {});
    this.#file = undefined;
    this.#held = [];
    if (this.#path !== undefined) await removeSpooled([this.#path]);
  }

  /** Stops one chunk past a limit: never more than a chunk beyond `maxBytes` or the declared size is read. */
  #checkLimits(): void {
    const { maxBytes } = this.#settings;
    if (this.#total > maxBytes) {
      throw new MultipartError(
        'ERR_SPOOL_LIMIT',
        `its stream holds more than the ${maxBytes} bytes spool.maxBytes allows`,
        { paramName: this.#label },
      );
    }
    if (this.#declared !== undefined && this.#total > this.#declared) {
      throw new MultipartError('ERR_SIZE_MISMATCH', `its stream holds more than the ${this.#declared} bytes declared`, {
        paramName: this.#label,
      });
    }
  }

  async #open(): Promise<void> {
    const dir = this.#settings.dir ?? tmpdir();
    mkdirSync(dir, { recursive: true });
    this.#path = join(dir, `multipart-poster-spool-${process.pid}-${crypto().randomBytes(8).toString('hex')}`);
    trackSpoolFile(this.#path); // removed on exit or a fatal signal even before it is complete
    this.#file = await open(this.#path, 'wx', 0o600);
    const held = this.#held;
    this.#held = [];
    for (const chunk of held) await this.#put(chunk);
  }

  /** Small chunks are gathered into a block; a large one goes straight to the file (after what was gathered). */
  async #put(chunk: Uint8Array): Promise<void> {
    if (chunk.length >= WRITE_BYTES / 2) {
      await this.#flush();
      await this.#writeAll(chunk); // written before the next chunk is asked for: the caller's buffer is free again after
      return;
    }
    if (this.#used + chunk.length > WRITE_BYTES) await this.#flush();
    this.#block ??= Buffer.allocUnsafe(WRITE_BYTES);
    this.#block.set(chunk, this.#used);
    this.#used += chunk.length;
  }

  async #flush(): Promise<void> {
    if (this.#used === 0) return;
    await this.#writeAll(this.#block!.subarray(0, this.#used));
    this.#used = 0;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length;) {
      const { bytesWritten } = await this.#file!.write(bytes, at, bytes.length - at);
      at += bytesWritten;
    }
  }
}
