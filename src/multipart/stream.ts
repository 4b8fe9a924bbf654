import { asBuffer, isKeptPrivate } from './bytes.js';
import { Progress, type BodyCallback, type PartCallback } from './progress.js';
import { consumedError, type BlockPool, type ByteSource, type ReadSettings } from './sources.js';
import { BodyChunks, SourceRead, type PassState } from './source-read.js';
import { LoopTurns } from '../common/turns.js';
import {
  bodyLength,
  firstConsumed,
  inMemory,
  inMemoryChecked,
  isSource,
  pieceSize,
  TextPiece,
  type PartRecord,
  type TextSink,
  type Piece,
  type PieceData,
} from './wire.js';

/** A piece's data held in memory: a text part, text or bytes. */
type InMemory = Exclude<PieceData<unknown>, ByteSource>;

/** Files are read 1 MiB at a time: large reads are what keeps the encoder at disk speed. */
export const DEFAULT_BLOCK_SIZE = 1024 * 1024;
/** Small pieces (framing, short fields, small files) are gathered into chunks of up to this size. */
const COALESCE_BYTES = 64 * 1024;
/** Files below this size are read whole, synchronously (see FileSource). */
export const DEFAULT_SYNC_READ_LIMIT = 64 * 1024;
/** In-memory pieces between two looks at the clock: a few microseconds of work each. */
const CLOCK_EVERY = 32;

/** How a body is streamed: resolved once from the caller's options, then passed down as is. */
export interface StreamSettings<Owner> {
  /** Bytes read from a file at a time. */
  readonly blockSize: number;
  /** Files smaller than this are read whole with one synchronous open/read/close. */
  readonly syncReadLimit: number;
  /** No chunk larger than this (poster's `iter_encode(boundary, blocksize)`); undefined: as they come. */
  readonly maxChunk?: number | undefined;
  /** Progress of the whole body: the owner of the top-level part the last byte belongs to. */
  readonly onProgress?: BodyCallback<Owner> | undefined;
  /** Progress of one part (and, for a nested part, of each part around it). */
  readonly onPartProgress?: PartCallback<Owner> | undefined;
  /** The body's length, when the caller has it already (undefined: unknown); computed if absent. */
  readonly total?: number | undefined;
  /** Where file blocks come from when the consumer hands them back (upload()). */
  readonly pool?: BlockPool | undefined;
}

/**
 * Streams the pieces: small ones gathered into ~64 KiB chunks, large ones passed on
 * uncopied. Every source must yield exactly its declared size, else the stream
 * fails before a byte too many goes out, and a source that ends the body fails it
 * before its last byte goes out (see SourceRead). Progress is reported when the
 * consumer asks for the next chunk, i.e. once it has taken the previous one. Its
 * `return()` lets go of a source at once, even one whose next chunk is pending (see BodyChunks).
 */
export function streamPieces<Owner>(
  pieces: readonly Piece<Owner>[],
  settings: StreamSettings<Owner>,
): AsyncGenerator<Buffer, void, undefined> {
  return new BodyChunks((state) => piecesPass(pieces, settings, state));
}

async function* piecesPass<Owner>(
  pieces: readonly Piece<Owner>[],
  settings: StreamSettings<Owner>,
  state: PassState,
): AsyncGenerator<Buffer, void, undefined> {
  const { out, reading } = startPass(pieces, settings);
  const turns = new LoopTurns();
  let sinceClock = 0;
  const last = pieces[pieces.length - 1];
  for (const piece of pieces) {
    // Text parts are most pieces of a form of fields: they are told apart first, and read no getter.
    const text = piece instanceof TextPiece ? piece : undefined;
    if (text === undefined && isSource(piece.data)) {
      if (turns.due) await turns.turn();
      // The body's last piece holds back its last chunk until its source has ended as declared.
      const read = (state.current = new SourceRead(piece.data, piece, reading, piece === last, state));
      try {
        for (let result = await read.next(); !result.done; result = await read.next()) {
          const taken = read.take(result.value);
          if (taken !== undefined && !out.tryBatch(taken, taken.length, piece.part))
            yield* out.pass(taken, taken.length, piece.part);
        }
        if (state.released) return; // the consumer left while a chunk was awaited
        const held = read.end();
        if (held !== undefined && !out.tryBatch(held, held.length, piece.part))
          yield* out.pass(held, held.length, piece.part);
      } finally {
        state.current = undefined;
        await read.close();
      }
      continue;
    }
    // The clock is read every few pieces: 100,000 small fields would otherwise pay for it 100,000 times.
    if (++sinceClock >= CLOCK_EVERY) {
      sinceClock = 0;
      if (turns.due) await turns.turn();
    }
    // Bytes are checked against their planned length (a buffer resized or detached since fails).
    const data = text ?? inMemoryChecked(piece);
    const part = text ?? piece.part;
    const size = text?.size ?? pieceSize(piece)!;
    // Most pieces join the batch without filling it: no generator for them.
    if (!out.tryBatch(data, size, part)) yield* out.pass(data, size, part);
  }
  yield* out.end();
  // One turn of the microtask queue before the body says it ended: an `async` callback that threw
  // at its last report has rejected by then, and fails the body as a throw would have.
  if (out.listened) {
    await undefined;
    out.assertNoLateFailure();
  }
}

/** A pass's output and read settings; a one-shot stream read before fails the pass at once. */
function startPass<Owner>(
  pieces: readonly Piece<Owner>[],
  settings: StreamSettings<Owner>,
): { out: Output<Owner>; reading: ReadSettings } {
  const spent = firstConsumed(pieces);
  if (spent !== undefined) throw consumedError(spent.part?.label);
  const total = 'total' in settings ? settings.total : bodyLength(pieces);
  const out = new Output<Owner>(settings, new Progress(settings.onProgress, settings.onPartProgress, total));
  const reading: ReadSettings = {
    blockSize: Math.min(settings.blockSize, settings.maxChunk ?? Infinity),
    syncReadLimit: settings.syncReadLimit,
    pool: settings.pool,
  };
  return { out, reading };
}

/**
 * What goes to the consumer: text and small bytes join a batch (sent when it is full), large
 * bytes go out as they are, uncopied, after whatever was batched; with a chunk limit, in slices
 * of at most that size. Each chunk's progress is reported once the consumer asks for the next.
 */
class Output<Owner> {
  readonly #batch: Batch;
  readonly #progress: Progress<Owner>;
  readonly #limit: number | undefined;

  constructor(settings: StreamSettings<Owner>, progress: Progress<Owner>) {
    this.#limit = settings.maxChunk;
    this.#batch = new Batch(Math.min(COALESCE_BYTES, this.#limit ?? COALESCE_BYTES));
    this.#progress = progress;
  }

  /** Adds a piece to the batch if it fits without filling it (nothing to send yet); false otherwise. */
  tryBatch(piece: InMemory, size: number, part: PartRecord<Owner> | undefined): boolean {
    if (this.#batch.bytes + size >= this.#batch.capacity) return false;
    this.#batch.add(piece, size);
    this.#progress.add(part, size);
    return true;
  }

  /** A batch never grows past its capacity (no chunk larger than `maxChunk`): a piece that would overflow it sends it first. */
  *pass(piece: InMemory, size: number, part: PartRecord<Owner> | undefined): Generator<Buffer> {
    if (size < this.#batch.capacity) {
      if (this.#batch.bytes + size > this.#batch.capacity) yield* this.#flush();
      this.#batch.add(piece, size);
      this.#progress.add(part, size);
      if (this.#batch.bytes === this.#batch.capacity) yield* this.#flush();
      return;
    }
    yield* this.#flush();
    const held = inMemory(piece);
    // The library's own bytes (a long part head, a spooled stream held in memory) go out as copies,
    // a block at a time; a caller's as views of them.
    const own = typeof held !== 'string' && isKeptPrivate(held);
    const bytes = typeof held === 'string' ? Buffer.from(held, 'utf8') : asBuffer(held);
    const step = this.#limit ?? (own ? DEFAULT_BLOCK_SIZE : bytes.length);
    for (let offset = 0; offset < bytes.length; offset += step) {
      const view = step >= bytes.length ? bytes : bytes.subarray(offset, offset + step);
      const slice = own ? Buffer.from(view) : view;
      this.#progress.add(part, slice.length);
      yield slice;
      this.#progress.report();
    }
  }

  /** Whether a progress callback listens (see Progress). */
  get listened(): boolean {
    return this.#progress.listened;
  }

  assertNoLateFailure(): void {
    this.#progress.assertNoLateFailure();
  }

  /** What is left in the batch; the consumer of an empty body still hears that it is complete. */
  *end(): Generator<Buffer> {
    yield* this.#flush();
    this.#progress.finish();
  }

  *#flush(): Generator<Buffer> {
    if (this.#batch.bytes === 0) return;
    yield this.#batch.take();
    this.#progress.report();
  }
}

/**
 * Small pieces waiting to go out together; runs of text are encoded in one go. Its list is kept
 * at its largest and cleared with empty strings, never grown again: a batch of 64 KiB of small
 * fields is a few thousand strings, for every chunk of the body.
 */
class Batch implements TextSink {
  readonly #chunks: Array<string | Uint8Array> = [];
  #count = 0;
  #hasBytes = false;
  bytes = 0;

  constructor(readonly capacity: number) {}

  /** `size` is the piece's byte count (for text, its UTF-8 length); a text part goes in as the strings it is made of. */
  add(piece: InMemory, size: number): void {
    if (piece instanceof TextPiece) piece.writeTo(this);
    else {
      if (typeof piece !== 'string') this.#hasBytes = true;
      this.#chunks[this.#count++] = piece;
    }
    this.bytes += size;
  }

  text(value: string): void {
    this.#chunks[this.#count++] = value;
  }

  /** The batch as one chunk; the batch is empty after. */
  take(): Buffer {
    const chunks = this.#chunks;
    const chunk = this.#hasBytes ? this.#mixed() : Buffer.from(chunks.join(''), 'utf8');
    chunks.fill('', 0, this.#count);
    this.#count = 0;
    this.#hasBytes = false;
    this.bytes = 0;
    return chunk;
  }

  #mixed(): Buffer {
    const chunks = this.#chunks;
    const buffers: Uint8Array[] = [];
    for (let i = 0; i < this.#count;) {
      let text = '';
      for (; i < this.#count && typeof chunks[i] === 'string'; i++) text += chunks[i];
      if (text !== '') buffers.push(Buffer.from(text, 'utf8'));
      if (i < this.#count) buffers.push(chunks[i++] as Uint8Array);
    }
    // Always a new buffer, even for one piece alone: a part's head is kept for every pass, and a
    // consumer may fill or transfer what it is given.
    return Buffer.concat(buffers, this.bytes);
  }
}
