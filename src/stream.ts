import { MultipartError } from './errors.js';
import type { MultipartParam } from './param.js';
import { consumedError, type BlockPool, type ByteSource } from './sources.js';
import { bodyLength, isSource, pieceSize, wirePieces, type PartRecord, type Piece, type WirePart } from './wire.js';

/** Files are read 1 MiB at a time: large reads are what keeps the encoder at disk speed. */
export const DEFAULT_BLOCK_SIZE = 1024 * 1024;
/** Small pieces (framing, short fields, small files) are gathered into chunks of about this size. */
const COALESCE_BYTES = 64 * 1024;
/** Files below this size are read whole, synchronously (see FileSource). */
export const DEFAULT_SYNC_READ_LIMIT = 64 * 1024;

/** Progress of a whole body; `param` is the part the last consumed byte belongs to (undefined for an empty form). */
export type BodyProgressCallback = (param: MultipartParam | undefined, current: number, total: number | undefined) => void;

export interface BodyOptions {
  blockSize?: number;
  syncReadLimit?: number;
  /** Scan streamed data for the delimiter (needed only when the caller chose the boundary). */
  checkBoundary?: boolean;
  onProgress?: BodyProgressCallback | undefined;
}

// Written out rather than spread from `param.fields`: this runs once per param, and
// the spread doubled the time to plan 100,000 fields (measured with bench W3).
export function toWirePart(param: MultipartParam): WirePart<MultipartParam> {
  return { owner: param, name: param.name, filename: param.filename, contentType: param.filetype, data: param.data };
}

/** The bytes of one part, without the close delimiter (`MultipartParam.iterEncode`). */
export function encodePart(param: MultipartParam, boundary: string, options: BodyOptions): AsyncIterable<Buffer> {
  const pieces = planParts([param], boundary, false);
  return { [Symbol.asyncIterator]: () => streamPieces(pieces, { ...options, boundary }) };
}

/** The walk over the params, after checking in-memory data for the delimiter. */
export function planParts(params: readonly MultipartParam[], boundary: string, close = true): Piece<MultipartParam>[] {
  for (const param of params) {
    const data = param.data;
    if (!isSource(data)) assertNoBoundaryInData(data, boundary, param.name);
  }
  return wirePieces(params.map(toWirePart), boundary, close);
}

interface StreamOptions extends BodyOptions {
  boundary?: string;
  pool?: BlockPool;
  /** The body's length when the caller has it already (undefined: unknown); computed if absent. */
  total?: number | undefined;
}

/**
 * Streams the pieces: small ones gathered into ~64 KiB chunks, large ones passed on
 * uncopied. Every source must yield exactly its declared size, else the stream
 * fails before a byte too many goes out. Progress is reported when the consumer
 * asks for the next chunk, i.e. once it has taken the previous one.
 */
export async function* streamPieces(
  pieces: readonly Piece<MultipartParam>[],
  options: StreamOptions,
): AsyncGenerator<Buffer, void, undefined> {
  const settings = {
    blockSize: options.blockSize ?? DEFAULT_BLOCK_SIZE,
    syncReadLimit: options.syncReadLimit ?? DEFAULT_SYNC_READ_LIMIT,
    pool: options.pool,
  };
  for (const { part, data } of pieces) {
    if (isSource(data) && data.consumed) throw consumedError(part?.owner.name ?? '');
  }
  const total = 'total' in options ? options.total : bodyLength(pieces);
  const progress = new Progress(options.onProgress, total);
  const batch = new Batch();

  for (const piece of pieces) {
    const { part, data } = piece;
    if (!isSource(data)) {
      if (piece.planned !== undefined && typeof data !== 'string' && data.byteLength !== piece.planned) {
        // A resizable ArrayBuffer resized, or a buffer transferred (detached), after the length was declared.
        throw new MultipartError(
          'ERR_SIZE_MISMATCH',
          `its bytes changed length from ${piece.planned} to ${data.byteLength} after the body was encoded (resized or detached buffer)`,
          { paramName: part?.owner.name ?? '' },
        );
      }
      yield* pass(data, pieceSize(piece)!, part, batch, progress);
      continue;
    }
    const name = part?.owner.name ?? '';
    const scanner = options.checkBoundary && options.boundary !== undefined ? new DelimiterScanner(options.boundary, name) : undefined;
    let seen = 0;
    for await (const read of data.read(settings, name)) {
      // A caller's stream may reuse its buffer once asked for the next chunk; the bytes we still hold must not change.
      const chunk = data.borrowsChunks ? Buffer.from(read) : read;
      seen += chunk.length;
      if (data.size !== undefined && seen > data.size) throw sizeChanged(data, seen, 'grew to more than', name);
      scanner?.scan(chunk);
      yield* pass(chunk, chunk.length, part, batch, progress);
    }
    if (data.size !== undefined && seen !== data.size) throw sizeChanged(data, seen, 'shrank to', name);
  }
  yield* batch.flush(progress);
  progress.finish();
}

/**
 * Hands one piece on: text and small bytes join the batch (sent when it reaches
 * ~64 KiB), large bytes go out as they are, uncopied, after whatever was batched.
 */
function* pass(
  piece: string | Uint8Array,
  size: number,
  part: PartRecord<MultipartParam> | undefined,
  batch: Batch,
  progress: Progress,
): Generator<Buffer, void, undefined> {
  if (typeof piece === 'string' || size < COALESCE_BYTES) {
    batch.add(piece, size, part, progress);
    if (batch.bytes >= COALESCE_BYTES) yield* batch.flush(progress);
    return;
  }
  yield* batch.flush(progress);
  progress.add(part, size);
  yield asBuffer(piece);
  progress.report();
}

function sizeChanged(source: ByteSource, seen: number, how: string, paramName: string): MultipartError {
  return new MultipartError(
    'ERR_SIZE_MISMATCH',
    `${source.description} ${how} ${seen} bytes while being sent; ${source.size} were declared in Content-Length`,
    { paramName },
  );
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Small pieces waiting to go out together; runs of text are encoded in one go. */
class Batch {
  #chunks: Array<string | Uint8Array> = [];
  bytes = 0;

  /** `size` is the piece's byte count (for text, its UTF-8 length). */
  add(piece: string | Uint8Array, size: number, part: PartRecord<MultipartParam> | undefined, progress: Progress): void {
    this.#chunks.push(piece);
    this.bytes += size;
    progress.add(part, size);
  }

  *flush(progress: Progress): Generator<Buffer, void, undefined> {
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
    for (let i = 0; i < chunks.length; ) {
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
class Progress {
  #body = 0;
  #part: PartRecord<MultipartParam> | undefined;
  #partBytes = 0;
  #unreported: Array<PartRecord<MultipartParam> | number | undefined> = [];
  #owner: MultipartParam | undefined;
  #reported = false;

  constructor(
    private readonly onProgress: BodyProgressCallback | undefined,
    private readonly total: number | undefined,
  ) {}

  add(part: PartRecord<MultipartParam> | undefined, bytes: number): void {
    this.#unreported.push(part, bytes);
  }

  report(): void {
    const unreported = this.#unreported;
    for (let i = 0; i < unreported.length; i += 2) {
      const part = unreported[i] as PartRecord<MultipartParam> | undefined;
      const bytes = unreported[i + 1] as number;
      this.#body += bytes;
      if (part === undefined) continue;
      if (part !== this.#part) {
        this.#part = part;
        this.#partBytes = 0;
      }
      this.#partBytes += bytes;
      this.#owner = part.owner;
      if (part.owner.cb) guard(`the cb of field ${JSON.stringify(part.owner.name)}`, () => part.owner.cb!(part.owner, this.#partBytes, part.size));
    }
    this.#unreported = [];
    this.#reported = true;
    if (this.onProgress) guard('onProgress', () => this.onProgress!(this.#owner, this.#body, this.total));
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
    throw new MultipartError('ERR_CALLBACK_FAILED', `${what} threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Finds the delimiter `--B` at the start of the data or after a line feed
 * (`\n--B` also catches `\r\n--B`), across chunk edges.
 */
class DelimiterScanner {
  readonly #needle: Buffer;
  #tail: Buffer = Buffer.from('\n');

  constructor(
    boundary: string,
    private readonly paramName: string,
  ) {
    this.#needle = Buffer.from(`\n--${boundary}`, 'latin1');
  }

  scan(chunk: Uint8Array): void {
    const bytes = asBuffer(chunk);
    const keep = this.#needle.length - 1;
    const seam = Buffer.concat([this.#tail, bytes.subarray(0, keep)]);
    if (seam.includes(this.#needle) || bytes.includes(this.#needle)) throw boundaryInData(this.paramName);
    this.#tail = bytes.length >= keep ? Buffer.from(bytes.subarray(bytes.length - keep)) : seam.subarray(Math.max(seam.length - keep, 0));
  }
}

export function assertNoBoundaryInData(data: string | Uint8Array, boundary: string, paramName: string): void {
  if (typeof data === 'string') {
    const delimiter = `--${boundary}`;
    if (data.startsWith(delimiter) || data.includes(`\n${delimiter}`)) throw boundaryInData(paramName);
  } else {
    new DelimiterScanner(boundary, paramName).scan(data);
  }
}

function boundaryInData(paramName: string): MultipartError {
  return new MultipartError('ERR_BOUNDARY_IN_DATA', 'its data contains the boundary delimiter; choose another boundary', {
    paramName,
  });
}
