import { MultipartError } from '../common/errors.js';
import { consumedError, type BlockPool, type ByteSource } from './sources.js';
import { asBuffer } from './bytes.js';
import { DelimiterScanner } from './delimiter.js';
import { bodyLength, isSource, pieceSize, type PartRecord, type Piece } from './wire.js';

/** Files are read 1 MiB at a time: large reads are what keeps the encoder at disk speed. */
export const DEFAULT_BLOCK_SIZE = 1024 * 1024;
/** Small pieces (framing, short fields, small files) are gathered into chunks of about this size. */
const COALESCE_BYTES = 64 * 1024;
/** Files below this size are read whole, synchronously (see FileSource). */
export const DEFAULT_SYNC_READ_LIMIT = 64 * 1024;
/**
 * The longest the walk (and the plan before it) runs without letting the event loop turn. Small
 * files read synchronously and a consumer that takes every chunk at once would otherwise hold it
 * for the whole body (2,000 small files: over 100 ms); a turn every millisecond keeps timers and
 * sockets served.
 */
const LOOP_SLICE_MS = 1;
/** In-memory pieces between two looks at the clock: a few microseconds of work each. */
const CLOCK_EVERY = 32;

/** Gives the event loop a turn once LOOP_SLICE_MS have passed since it last had one. */
export class LoopTurns {
  #since = performance.now();

  /** Whether the loop is due a turn (reads the clock). */
  get due(): boolean {
    return performance.now() - this.#since >= LOOP_SLICE_MS;
  }

  async turn(): Promise<void> {
    await new Promise(setImmediate);
    this.#since = performance.now();
  }
}

/** How a body is streamed: resolved once from the caller's options, then passed down as is. */
export interface StreamSettings<Owner> {
  /** Bytes read from a file at a time. */
  readonly blockSize: number;
  /** Files smaller than this are read whole with one synchronous open/read/close. */
  readonly syncReadLimit: number;
  /** No chunk larger than this (poster's `iter_encode(boundary, blocksize)`); undefined: as they come. */
  readonly maxChunk?: number | undefined;
  /** Progress of the whole body: the owner of the top-level part the last byte belongs to. */
  readonly onProgress?: ((owner: Owner | undefined, current: number, total: number | undefined) => void) | undefined;
  /** Progress of one part (and, for a nested part, of each part around it). */
  readonly onPartProgress?: ((owner: Owner, current: number, total: number | undefined) => void) | undefined;
  /** The body's length, when the caller has it already (undefined: unknown); computed if absent. */
  readonly total?: number | undefined;
  /** Where file blocks come from when the consumer hands them back (upload()). */
  readonly pool?: BlockPool | undefined;
}

/**
 * Streams the pieces: small ones gathered into ~64 KiB chunks, large ones passed on
 * uncopied. Every source must yield exactly its declared size, else the stream
 * fails before a byte too many goes out. Progress is reported when the consumer
 * asks for the next chunk, i.e. once it has taken the previous one.
 */
export async function* streamPieces<Owner>(
  pieces: readonly Piece<Owner>[],
  settings: StreamSettings<Owner>,
): AsyncGenerator<Buffer, void, undefined> {
  for (const { part, data } of pieces) {
    if (isSource(data) && data.consumed) throw consumedError(part?.label);
  }
  const total = 'total' in settings ? settings.total : bodyLength(pieces);
  const progress = new Progress(settings, total);
  const limit = settings.maxChunk;
  const batch = new Batch<Owner>(Math.min(COALESCE_BYTES, limit ?? COALESCE_BYTES));
  const reading = {
    blockSize: Math.min(settings.blockSize, limit ?? Infinity),
    syncReadLimit: settings.syncReadLimit,
    pool: settings.pool,
  };

  const turns = new LoopTurns();
  let sinceClock = 0;
  for (const piece of pieces) {
    const { part, data } = piece;
    // The clock is read every few pieces (sources always): 100,000 small fields would otherwise pay for it 100,000 times.
    if (isSource(data) || ++sinceClock >= CLOCK_EVERY) {
      sinceClock = 0;
      if (turns.due) await turns.turn();
    }
    if (!isSource(data)) {
      if (piece.planned !== undefined && typeof data !== 'string' && data.byteLength !== piece.planned) {
        // A resizable ArrayBuffer resized, or a buffer transferred (detached), after the length was declared.
        throw new MultipartError(
          'ERR_SIZE_MISMATCH',
          `its bytes changed length from ${piece.planned} to ${data.byteLength} after the body was encoded (resized or detached buffer)`,
          { paramName: part?.label },
        );
      }
      yield* pass(data, pieceSize(piece)!, part, batch, progress, limit);
      continue;
    }
    const label = part?.label;
    const scanners = piece.scanFor?.map((boundary) => new DelimiterScanner(boundary, label));
    let seen = 0;
    for await (const read of data.read(reading, label)) {
      // A caller's stream may reuse its buffer once asked for the next chunk; the bytes we still hold must not change.
      const chunk = data.borrowsChunks ? Buffer.from(read) : read;
      seen += chunk.length;
      if (data.size !== undefined && seen > data.size) throw sizeChanged(data, seen, 'grew to more than', label);
      if (scanners !== undefined) for (const scanner of scanners) scanner.scan(chunk);
      yield* pass(chunk, chunk.length, part, batch, progress, limit);
    }
    if (data.size !== undefined && seen !== data.size) throw sizeChanged(data, seen, 'shrank to', label);
  }
  yield* batch.flush(progress);
  progress.finish();
}

/**
 * Hands one piece on: text and small bytes join the batch (sent when it is full),
 * large bytes go out as they are, uncopied, after whatever was batched; with a
 * chunk limit, in slices of at most that size.
 */
function* pass<Owner>(
  piece: string | Uint8Array,
  size: number,
  part: PartRecord<Owner> | undefined,
  batch: Batch<Owner>,
  progress: Progress<Owner>,
  limit: number | undefined,
): Generator<Buffer, void, undefined> {
  if (size < batch.capacity) {
    batch.add(piece, size, part, progress);
    if (batch.bytes >= batch.capacity) yield* batch.flush(progress);
    return;
  }
  yield* batch.flush(progress);
  const bytes = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : asBuffer(piece);
  const step = limit ?? bytes.length;
  for (let offset = 0; offset < bytes.length; offset += step) {
    const slice = step >= bytes.length ? bytes : bytes.subarray(offset, offset + step);
    progress.add(part, slice.length);
    yield slice;
    progress.report();
  }
}

function sizeChanged(source: ByteSource, seen: number, how: string, label: string | undefined): MultipartError {
  return new MultipartError(
    'ERR_SIZE_MISMATCH',
    `${source.description} ${how} ${seen} bytes while being sent; ${source.size} were declared in Content-Length`,
    { paramName: label },
  );
}

/** Small pieces waiting to go out together; runs of text are encoded in one go. */
class Batch<Owner> {
  #chunks: Array<string | Uint8Array> = [];
  bytes = 0;

  constructor(readonly capacity: number) {}

  /** `size` is the piece's byte count (for text, its UTF-8 length). */
  add(piece: string | Uint8Array, size: number, part: PartRecord<Owner> | undefined, progress: Progress<Owner>): void {
    this.#chunks.push(piece);
    this.bytes += size;
    progress.add(part, size);
  }

  *flush(progress: Progress<Owner>): Generator<Buffer, void, undefined> {
    if (this.bytes === 0) return;
    const chunk = this.#encode();
    this.#chunks = [];
    this.bytes = 0;
    yield chunk;
    progress.report();
  }

  #encode(): Buffer {
    const chunks = this.#chunks;
    if (chunks.every((c) => typeof c === 'string')) return Buffer.from(chunks.join(''), 'utf8');
    const buffers: Uint8Array[] = [];
    for (let i = 0; i < chunks.length;) {
      let text = '';
      for (; i < chunks.length && typeof chunks[i] === 'string'; i++) text += chunks[i];
      if (text !== '') buffers.push(Buffer.from(text, 'utf8'));
      if (i < chunks.length) buffers.push(chunks[i++] as Uint8Array);
    }
    return buffers.length === 1 ? asBuffer(buffers[0]!) : Buffer.concat(buffers, this.bytes);
  }
}

/**
 * Counts bytes per part and for the body. `add` records bytes handed to the
 * consumer; `report` runs once the consumer has taken them.
 */
class Progress<Owner> {
  #body = 0;
  /** Bytes of each part seen so far, for the innermost part and the parts around it. */
  readonly #partBytes = new Map<PartRecord<Owner>, number>();
  #unreported: Array<PartRecord<Owner> | number | undefined> = [];
  #top: PartRecord<Owner> | undefined;
  #owner: Owner | undefined;
  #reported = false;
  readonly #onProgress: StreamSettings<Owner>['onProgress'];
  readonly #onPartProgress: StreamSettings<Owner>['onPartProgress'];

  constructor(
    settings: StreamSettings<Owner>,
    private readonly total: number | undefined,
  ) {
    this.#onProgress = settings.onProgress;
    this.#onPartProgress = settings.onPartProgress;
  }

  add(part: PartRecord<Owner> | undefined, bytes: number): void {
    this.#unreported.push(part, bytes);
  }

  report(): void {
    const unreported = this.#unreported;
    const onPart = this.#onPartProgress;
    for (let i = 0; i < unreported.length; i += 2) {
      const part = unreported[i] as PartRecord<Owner> | undefined;
      const bytes = unreported[i + 1] as number;
      this.#body += bytes;
      if (part === undefined) continue;
      let top = part;
      while (top.parent !== undefined) top = top.parent;
      if (onPart === undefined) {
        this.#owner = top.owner;
        continue;
      }
      if (top !== this.#top) {
        // Only the current top-level part is kept: memory stays flat over 100,000 fields.
        this.#partBytes.clear();
        this.#top = top;
        this.#owner = top.owner;
      }
      for (let record: PartRecord<Owner> | undefined = part; record !== undefined; record = record.parent) {
        const seen = (this.#partBytes.get(record) ?? 0) + bytes;
        this.#partBytes.set(record, seen);
        const { owner, label, size } = record;
        guard(label === undefined ? 'the cb of a part' : `the cb of field ${JSON.stringify(label)}`, () =>
          onPart(owner, seen, size),
        );
      }
    }
    this.#unreported = [];
    this.#reported = true;
    const onProgress = this.#onProgress;
    if (onProgress !== undefined) guard('onProgress', () => onProgress(this.#owner, this.#body, this.total));
  }

  /** An empty body yields nothing; its consumer still hears that it is complete. */
  finish(): void {
    if (!this.#reported) this.report();
  }
}

/** Runs a caller's callback; what it throws fails the stream as ERR_CALLBACK_FAILED, with the throw as cause. */
function guard(what: string, callback: () => void): void {
  try {
    callback();
  } catch (cause) {
    throw new MultipartError(
      'ERR_CALLBACK_FAILED',
      `${what} threw: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}
