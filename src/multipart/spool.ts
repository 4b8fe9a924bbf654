import { crypto } from './boundary.js';
import { mkdirSync, unlinkSync } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultipartError } from '../common/errors.js';
import { FileSource, type ByteSource } from './sources.js';

/** Where a one-shot stream is copied so the body gets an exact length and can be sent again. */
export interface SpoolOptions {
  /** Streams up to this many bytes stay in memory (default 1 MiB); larger ones go to a temporary file. */
  memoryLimit?: number;
  /** The most a stream may hold (default 10 GiB); beyond it, ERR_SPOOL_LIMIT. */
  maxBytes?: number;
  /** The directory for temporary files (default `os.tmpdir()`). */
  dir?: string;
}

export const SPOOL_DEFAULTS = { memoryLimit: 1024 * 1024, maxBytes: 10 * 1024 ** 3 };

/** Every spool file not yet removed; removed synchronously if the process exits first. */
const live = new Set<string>();
let exitHook = false;

function track(path: string): void {
  live.add(path);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const file of live) {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      }
    });
  }
}

/** Removes spool files, once each; never throws. */
export async function removeSpooled(paths: readonly string[]): Promise<void> {
  await Promise.all(
    paths.map(async (path) => {
      if (!live.delete(path)) return;
      await unlink(path).catch(() => {});
    }),
  );
}

export function spoolFilesLeft(): number {
  return live.size;
}

/**
 * Reads a one-shot source to its end: into memory up to `memoryLimit`, then into a temporary file
 * (mode 0600). A stream that fails or passes `maxBytes` leaves nothing behind.
 */
export async function spool(
  source: ByteSource,
  settings: Required<Omit<SpoolOptions, 'dir'>> & Pick<SpoolOptions, 'dir'>,
  label: string | undefined,
  files: string[],
  signal?: AbortSignal,
): Promise<Uint8Array | FileSource> {
  const chunks: Buffer[] = [];
  let total = 0;
  let path: string | undefined;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  const reads = source.read({ blockSize: SPOOL_DEFAULTS.memoryLimit, syncReadLimit: 0 }, label)[Symbol.asyncIterator]();
  // A stream that never yields again must not hold the caller past its signal (upload()'s timeout).
  let onAbort: (() => void) | undefined;
  const aborted =
    signal === undefined
      ? undefined
      : new Promise<never>((_, reject) => {
          onAbort = () => reject(signal.reason);
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        });
  aborted?.catch(() => {});
  try {
    for (;;) {
      const next = reads.next();
      const result = aborted === undefined ? await next : await Promise.race([next, aborted]);
      if (result.done) break;
      const chunk = result.value;
      total += chunk.length;
      if (total > settings.maxBytes) {
        throw new MultipartError(
          'ERR_SPOOL_LIMIT',
          `its stream holds more than the ${settings.maxBytes} bytes spool.maxBytes allows`,
          { paramName: label },
        );
      }
      if (handle === undefined && total <= settings.memoryLimit) {
        chunks.push(Buffer.from(chunk)); // the caller may reuse its buffer
        continue;
      }
      if (handle === undefined) {
        const dir = settings.dir ?? tmpdir();
        mkdirSync(dir, { recursive: true });
        path = join(dir, `multipart-poster-spool-${process.pid}-${crypto().randomBytes(8).toString('hex')}`);
        track(path);
        handle = await open(path, 'wx', 0o600);
        for (const held of chunks.splice(0)) await handle.write(held);
      }
      await handle.write(chunk);
    }
    if (handle === undefined) return Buffer.concat(chunks, total);
    await handle.close();
    handle = undefined;
    files.push(path!);
    return new FileSource(path!, await stat(path!));
  } catch (error) {
    if (signal?.aborted) void reads.return?.(undefined)?.catch?.(() => {}); // not awaited: the stream may never answer
    await handle?.close().catch(() => {});
    if (path !== undefined) await removeSpooled([path]);
    if (error instanceof MultipartError || (signal?.aborted && error === signal.reason)) throw error;
    throw new MultipartError(
      'ERR_SOURCE_FAILED',
      `spooling its stream failed: ${error instanceof Error ? error.message : String(error)}`,
      { paramName: label, cause: error },
    );
  } finally {
    if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
  }
}
