import { MultipartError } from '../common/errors.js';
import { assertTakenLength, bytesLength, checkBytesLength, keptPrivate } from './bytes.js';
import { assertNoDelimiter } from './delimiter.js';
import { CRLF, partHead } from './head.js';
import type { ByteSource } from './sources.js';
import { TextPiece, textFrame, type TextFrame, type TextSink } from './text-piece.js';

/**
 * The multipart wire format (RFC 2046 §5.1; RFC 7578 for form-data), in one place. Each part:
 *
 *   --B\r\n
 *   [Content-Disposition: <form-data|attachment>; name="<name>"[; filename="<filename>"]\r\n]
 *   [Content-Type: <type>\r\n]
 *   [<Name>: <value>\r\n]...        the part's own headers, in the order given
 *   \r\n
 *   <data>\r\n
 *
 * then, after the last part, the close delimiter `--B--\r\n`. No preamble, no epilogue. The
 * Content-Disposition line belongs to named parts: `form-data` inside multipart/form-data,
 * `attachment` in any other multipart (as curl writes it).
 */
export type HeaderLine = readonly [name: string, value: string];

/**
 * One part as plain data: its header fields, its data, and what its progress is reported against.
 * A name of null or undefined means no Content-Disposition line. A part must not change once
 * planned (a MultipartParam, which is its own Part, cannot).
 */
export interface Part<Owner> {
  readonly name: string | null | undefined;
  readonly filename: string | undefined;
  readonly contentType: string | undefined;
  /** Further header lines, already checked (tokens for names, no CR/LF in values). */
  readonly headers: readonly HeaderLine[] | undefined;
  readonly data: PartData;
  readonly owner: Owner;
}

/** A whole multipart body inside a part (curl's `-F f=@a,b`): its own boundary and pieces, close delimiter included. */
export interface NestedBody {
  readonly boundary: string;
  readonly pieces: readonly Piece<unknown>[];
}

/** The data of a part: a string (sent as UTF-8), bytes, a source streamed when reached, or a nested body. */
export type PartData = string | Uint8Array | ByteSource | NestedBody;

/** How the body around the parts is framed. */
export interface Framing {
  readonly boundary: string;
  /** `form-data` for multipart/form-data, else `attachment`. */
  readonly disposition: 'form-data' | 'attachment';
  /** The caller chose the boundary, so data is checked for its delimiter (a random one cannot occur by chance). */
  readonly chosen: boolean;
}

/**
 * A run of the body and the part it belongs to (undefined: the close delimiter). `data` is a
 * text part (head, value and CRLF, put together when sent), text (sent as UTF-8 as it is),
 * bytes, or a source.
 */
export interface Piece<Owner> {
  readonly part: PartRecord<Owner> | undefined;
  readonly data: PieceData<Owner>;
  /** For bytes: their length when planned; bytes resized or detached since then fail the stream. */
  readonly planned?: number;
  /** For a source: the boundaries whose delimiter its bytes must not hold (the caller-chosen ones around it). */
  readonly scanFor?: readonly string[];
}

export type PieceData<Owner> = TextPiece<Owner> | string | Uint8Array | ByteSource;

export interface PartRecord<Owner> {
  readonly owner: Owner;
  /** Names the part in errors: its name, if it has one. */
  readonly label: string | undefined;
  /** Bytes of the whole part (head, data and tail); undefined when its data's size is unknown. */
  readonly size: number | undefined;
  /** The part of the outer body that this (nested) part lies in. */
  readonly parent: PartRecord<Owner> | undefined;
}

const CRLF_BYTES = keptPrivate(Buffer.from(CRLF, 'latin1'));

export function closeDelimiter(boundary: string): string {
  return `--${boundary}--\r\n`;
}

/**
 * The single walk over the parts that every consumer uses: `bodyLength` sums it, the stream
 * reads it, `encode()` joins it. A string value is one text piece with its framing, put together
 * and encoded only when streamed; bytes and sources stand alone, never copied; a nested body's
 * pieces are spliced in whole.
 */
export function wirePieces<Owner>(parts: Iterable<Part<Owner>>, framing: Framing, close = true): Piece<Owner>[] {
  const plan = new Plan<Owner>(framing);
  for (const part of parts) plan.add(part);
  if (close) plan.close();
  return plan.pieces;
}

/** A plan made a part at a time (the encoder plans in slices, the event loop turning between them), its length summed as it goes. */
export class Plan<Owner> {
  readonly pieces: Piece<Owner>[] = [];
  #length: number | undefined = 0;
  readonly #scanFor: readonly string[] | undefined;
  readonly #frame: TextFrame;

  constructor(readonly framing: Framing) {
    this.#scanFor = framing.chosen ? [framing.boundary] : undefined;
    this.#frame = textFrame(framing);
  }

  /** Bytes of the pieces so far; undefined once a source of unknown size is among them. */
  get length(): number | undefined {
    return this.#length;
  }

  add(part: Part<Owner>): void {
    const { framing } = this;
    const label = part.name ?? undefined;
    const data = part.data;
    if (typeof data === 'string') {
      if (this.#scanFor !== undefined) assertNoDelimiter(data, framing.boundary, label);
      this.#push(TextPiece.of(part as Part<Owner> & { data: string }, this.#frame));
      return;
    }
    const headBytes = keptPrivate(Buffer.from(partHead(framing, part), 'utf8'));
    if (isNested(data)) {
      for (const piece of nestedPieces(data, part, headBytes, framing)) this.#push(piece);
      return;
    }
    // Bytes changed since their part took them fail now, before a length is planned with them.
    if (data instanceof Uint8Array) assertTakenLength(data, label);
    const dataSize = sizeOf(data);
    const size = dataSize === undefined ? undefined : headBytes.length + dataSize + CRLF.length;
    const record = { owner: part.owner, label, size, parent: undefined };
    this.#push({ part: record, data: headBytes });
    if (data instanceof Uint8Array) {
      if (this.#scanFor !== undefined) assertNoDelimiter(data, framing.boundary, label);
      this.#push({ part: record, data, planned: data.byteLength });
    } else {
      const scanFor = this.#scanFor;
      this.#push(scanFor === undefined ? { part: record, data } : { part: record, data, scanFor });
    }
    this.#push({ part: record, data: CRLF_BYTES });
  }

  /** The close delimiter, after the last part. */
  close(): void {
    this.#push({ part: undefined, data: Buffer.from(closeDelimiter(this.framing.boundary), 'latin1') });
  }

  #push(piece: Piece<Owner>): void {
    this.pieces.push(piece);
    if (this.#length === undefined) return;
    const size = pieceSize(piece);
    this.#length = size === undefined ? undefined : this.#length + size;
  }
}

/** The part with other data (a spooled copy of its stream), as a plain Part. */
export function withData<Owner>(part: Part<Owner>, data: PartData): Part<Owner> {
  const { name, filename, contentType, headers, owner } = part;
  return { name, filename, contentType, headers, data, owner };
}

/** A body with no framing at all (`rawBody`): the data alone. */
export function unframedPieces<Owner>(
  part: Pick<Part<Owner>, 'owner' | 'name'> & { data: Uint8Array | ByteSource },
): Piece<Owner>[] {
  const { data } = part;
  if (data instanceof Uint8Array) assertTakenLength(data, part.name ?? undefined);
  const size = data instanceof Uint8Array ? data.byteLength : data.size;
  const record = { owner: part.owner, label: part.name ?? undefined, size, parent: undefined };
  return [data instanceof Uint8Array ? { part: record, data, planned: data.byteLength } : { part: record, data }];
}

/**
 * The inner body's pieces inside the outer part: the inner delimiter must not begin with the
 * outer one (a parser of the outer body would split there), and, when the caller chose the outer
 * boundary, no data inside may hold the outer delimiter either.
 */
function nestedPieces<Owner>(
  nested: NestedBody,
  part: Part<Owner>,
  headBytes: Buffer,
  framing: Framing,
): Piece<Owner>[] {
  const label = part.name ?? undefined;
  if (nested.boundary.startsWith(framing.boundary)) {
    throw new MultipartError(
      'ERR_INVALID_BOUNDARY',
      `the boundary of its nested body starts with the outer boundary ${JSON.stringify(framing.boundary)}; choose another`,
      {
        paramName: label,
      },
    );
  }
  const inner = nested.pieces as readonly Piece<Owner>[];
  const innerSize = bodyLength(inner);
  const outer: PartRecord<Owner> = {
    owner: part.owner,
    label,
    size: innerSize === undefined ? undefined : headBytes.length + innerSize + CRLF.length,
    parent: undefined,
  };
  const records = new Map<PartRecord<Owner>, PartRecord<Owner>>();
  const within = (record: PartRecord<Owner> | undefined): PartRecord<Owner> => {
    if (record === undefined) return outer; // the inner close delimiter belongs to the outer part
    let moved = records.get(record);
    // A nameless inner part is named in errors by the outer part it lies in.
    if (moved === undefined)
      records.set(record, (moved = { ...record, label: record.label ?? label, parent: within(record.parent) }));
    return moved;
  };
  const pieces: Piece<Owner>[] = [{ part: outer, data: headBytes }];
  for (const piece of inner) {
    const { data } = piece;
    if (framing.chosen && isSource(data)) {
      pieces.push({ ...piece, part: within(piece.part), scanFor: [...(piece.scanFor ?? []), framing.boundary] });
      continue;
    }
    // Inner framing starts with `--<inner>`, which cannot begin the outer delimiter (checked above);
    // a text part's head holds no line start but its own.
    const checked = data instanceof TextPiece ? data.value : (data as string | Uint8Array);
    if (framing.chosen) assertNoDelimiter(checked, framing.boundary, piece.part?.label ?? label);
    if (data instanceof TextPiece) pieces.push(data.within(within(data.parent), data.label ?? label));
    else pieces.push({ ...piece, part: within(piece.part) });
  }
  pieces.push({ part: outer, data: CRLF_BYTES });
  return pieces;
}

export function isNested(data: PartData): data is NestedBody {
  return typeof data === 'object' && !(data instanceof Uint8Array) && Array.isArray((data as NestedBody).pieces);
}

export function isSource(data: PartData | Piece<unknown>['data']): data is ByteSource {
  return typeof data === 'object' && !(data instanceof Uint8Array) && typeof (data as ByteSource).read === 'function';
}

/** What an in-memory piece sends: text (a text part's put together) or bytes. */
export function inMemory(data: Exclude<PieceData<unknown>, ByteSource>): string | Uint8Array {
  return data instanceof TextPiece ? data.text() : data;
}

/**
 * An in-memory piece's data, checked against what was planned: bytes whose buffer was resized or
 * transferred (detached) since fail with ERR_SIZE_MISMATCH, for every consumer of the plan (the
 * stream, `toBlob()`), rather than sending another length than the Content-Length.
 */
export function inMemoryChecked<Owner>(piece: Piece<Owner>): Exclude<PieceData<Owner>, ByteSource> {
  const { data, planned } = piece;
  if (planned !== undefined && data instanceof Uint8Array) checkBytesLength(data, planned, piece.part?.label);
  return data as Exclude<PieceData<Owner>, ByteSource>;
}

/** The first piece whose source is a one-shot stream already read: none when the pieces can be sent (again). */
export function firstConsumed<Owner>(pieces: readonly Piece<Owner>[]): Piece<Owner> | undefined {
  return pieces.find((piece) => !(piece instanceof TextPiece) && isSource(piece.data) && piece.data.consumed);
}

/** Bytes of a part's data (without framing); undefined for a source of unknown size. */
export function sizeOf(data: PartData): number | undefined {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof Uint8Array) return bytesLength(data);
  return isSource(data) ? data.size : bodyLength(data.pieces);
}

/** Bytes of one piece; undefined for a source of unknown size. */
export function pieceSize(piece: Piece<unknown>): number | undefined {
  if (piece instanceof TextPiece) return piece.size; // most pieces of a form of fields: asked first
  const { part, data } = piece;
  if (typeof data === 'string') return part!.size; // text that is its whole part
  if (data instanceof Uint8Array) return piece.planned ?? data.byteLength;
  return data.size; // a text part's, or a source's
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

// RFC 2045 §5.1: a parameter value that is not a token (it holds a tspecial or a space) is a quoted string.
const TSPECIALS_OR_SPACE = /[()<>@,;:\\"/[\]?= \t]/;

function parameterValue(value: string): string {
  return value !== '' && !TSPECIALS_OR_SPACE.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** The Content-Type of a multipart body: `multipart/<subtype>; boundary=B[; key=value]...`, values quoted as RFC 2045 requires. */
export function multipartContentType(
  subtype: string,
  boundary: string,
  parameters: readonly HeaderLine[] = [],
): string {
  let type = `multipart/${subtype}; boundary=${parameterValue(boundary)}`;
  for (const [key, value] of parameters) type += `; ${key}=${parameterValue(value)}`;
  return type;
}

export { partHead, TextPiece, type TextSink };
