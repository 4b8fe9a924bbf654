import { escapeFilename, escapeName } from './escape.js';
import type { ByteSource } from './sources.js';

/**
 * The multipart/form-data wire format, in one place. For every part:
 *
 *   --B\r\n
 *   Content-Disposition: form-data; name="<name>"[; filename="<filename>"]\r\n
 *   [Content-Type: <type>\r\n]
 *   \r\n
 *   <data>\r\n
 *
 * then, after the last part, the close delimiter `--B--\r\n`. No preamble, no epilogue.
 */
export interface PartFields {
  readonly name: string;
  readonly filename?: string | undefined;
  readonly contentType?: string | undefined;
}

export function partHead(boundary: string, part: PartFields): string {
  let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(part.name)}"`;
  if (part.filename !== undefined) head += `; filename="${escapeFilename(part.filename)}"`;
  head += '\r\n';
  if (part.contentType !== undefined) head += `Content-Type: ${part.contentType}\r\n`;
  return `${head}\r\n`;
}

export const PART_TAIL = '\r\n';

export function closeDelimiter(boundary: string): string {
  return `--${boundary}--\r\n`;
}

/** The data of a part: a string (sent as UTF-8), bytes, or a source streamed when reached. */
export type PartData = string | Uint8Array | ByteSource;

/** One part as the walk below sees it; `owner` is what progress is reported against. */
export interface WirePart<Owner> extends PartFields {
  readonly owner: Owner;
  readonly data: PartData;
}

/**
 * A run of the body and the part it belongs to (undefined: the close delimiter).
 * `data` is text (a whole framed string part, sent as UTF-8), bytes, or a source.
 */
export interface Piece<Owner> {
  readonly part: PartRecord<Owner> | undefined;
  readonly data: string | Uint8Array | ByteSource;
  /** For bytes: their length when planned; bytes resized or detached since then fail the stream. */
  readonly planned?: number;
}

export interface PartRecord<Owner> {
  readonly owner: Owner;
  /** Bytes of the whole part (head, data and tail); undefined when its data's size is unknown. */
  readonly size: number | undefined;
}

/**
 * The single walk over the parts that both consumers use: `bodyLength` sums it,
 * the streaming encoder reads it. A string value travels with its framing as one
 * text, encoded only when streamed; bytes and sources stand alone, never copied.
 */
export function wirePieces<Owner>(parts: Iterable<WirePart<Owner>>, boundary: string, close = true): Piece<Owner>[] {
  const pieces: Piece<Owner>[] = [];
  for (const part of parts) {
    const head = partHead(boundary, part);
    if (typeof part.data === 'string') {
      const text = head + part.data + PART_TAIL;
      pieces.push({ part: { owner: part.owner, size: Buffer.byteLength(text, 'utf8') }, data: text });
      continue;
    }
    const headBytes = Buffer.from(head, 'utf8');
    const dataSize = part.data instanceof Uint8Array ? part.data.length : part.data.size;
    const record = {
      owner: part.owner,
      size: dataSize === undefined ? undefined : headBytes.length + dataSize + PART_TAIL.length,
    };
    const planned = part.data instanceof Uint8Array ? dataSize : undefined;
    pieces.push({ part: record, data: headBytes }, { part: record, data: part.data, ...(planned === undefined ? {} : { planned }) }, { part: record, data: TAIL_BYTES });
  }
  if (close) pieces.push({ part: undefined, data: Buffer.from(closeDelimiter(boundary), 'latin1') });
  return pieces;
}

const TAIL_BYTES = Buffer.from(PART_TAIL, 'latin1');

/** Bytes of one piece; undefined for a source of unknown size. */
export function pieceSize({ part, data }: Piece<unknown>): number | undefined {
  if (typeof data === 'string') return part!.size; // a text piece is its whole part
  return data instanceof Uint8Array ? data.length : data.size;
}

/** Total bytes of the pieces, or undefined if any source's size is unknown. */
export function bodyLength(pieces: readonly Piece<unknown>[]): number | undefined {
  let total = 0;
  for (const piece of pieces) {
    const size = pieceSize(piece);
    if (size === undefined) return undefined;
    total += size;
  }
  return total;
}

export function isSource(data: PartData): data is ByteSource {
  return typeof data !== 'string' && !(data instanceof Uint8Array);
}
