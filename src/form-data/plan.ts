import { MultipartError } from '../common/errors.js';
import { assertTakenLength } from '../multipart/bytes.js';
import { assertNoDelimiter } from '../multipart/delimiter.js';
import {
  bodyLength,
  closeDelimiter,
  inMemory,
  isSource,
  partHead,
  wirePieces,
  type Framing,
  type Part,
  type Piece,
} from '../multipart/wire.js';
import { ReadStreamSource } from './read-stream.js';
import type { Field } from './values.js';

const CRLF = '\r\n';
const CRLF_BYTES = Buffer.from(CRLF, 'latin1');

/**
 * The body's pieces for these fields and boundary, in the library's wire format (which is form-data's:
 * the same header lines in the same order, no preamble, `--B--\r\n` at the end). A field whose
 * `header` was a string has that string for its header block, as form-data sends it. Files that
 * could not be measured when appended are measured again here, or the plan fails with why.
 */
export function plan(fields: readonly Field[], framing: Framing): Piece<Field>[] {
  const pieces: Piece<Field>[] = [];
  // Runs of fields in the library's format are framed in one call; a field with its own header block apart.
  let run: Part<Field>[] = [];
  const flush = () => {
    for (const piece of wirePieces(run, framing, false)) pieces.push(piece);
    run = [];
  };
  for (const field of fields) {
    if (field.data instanceof ReadStreamSource) field.data.check();
    if (field.rawHead === undefined) {
      const { name, filename, contentType, headers, data } = field;
      run.push({ name, filename, contentType, headers, data, owner: field });
    } else {
      flush();
      for (const piece of rawPieces(field, field.rawHead, framing)) pieces.push(piece);
    }
  }
  flush();
  pieces.push({ part: undefined, data: Buffer.from(closeDelimiter(framing.boundary), 'latin1') });
  return pieces;
}

/** A field sent with the caller's own header block: that block, the data, CRLF. */
function rawPieces(field: Field, rawHead: string, framing: Framing): Piece<Field>[] {
  const { data, name } = field;
  if (framing.chosen && !isSource(data)) assertNoDelimiter(data, framing.boundary, name);
  if (typeof data === 'string') {
    const text = rawHead + data + CRLF;
    return [{ part: { owner: field, label: name, size: Buffer.byteLength(text), parent: undefined }, data: text }];
  }
  const head = Buffer.from(rawHead, 'utf8');
  if (data instanceof Uint8Array) assertTakenLength(data, name);
  const size = data instanceof Uint8Array ? data.byteLength : data.size;
  const record = {
    owner: field,
    label: name,
    size: size === undefined ? undefined : head.length + size + CRLF.length,
    parent: undefined,
  };
  const middle: Piece<Field> =
    data instanceof Uint8Array
      ? { part: record, data, planned: data.byteLength }
      : framing.chosen
        ? { part: record, data, scanFor: [framing.boundary] }
        : { part: record, data };
  return [{ part: record, data: head }, middle, { part: record, data: CRLF_BYTES }];
}

/** Bytes of each field's header block and the CRLF after its data: what form-data calls `_overheadLength`. */
export function overheadLength(fields: readonly Field[], boundary: string): number {
  let total = 0;
  for (const field of fields) {
    const head =
      field.rawHead ??
      partHead(
        { boundary, disposition: 'form-data' },
        { name: field.name, filename: field.filename, contentType: field.contentType, headers: field.headers },
      );
    total += Buffer.byteLength(head) + CRLF.length;
  }
  return total;
}

/** The whole body in memory; MultipartError ERR_NOT_IN_MEMORY when a part streams from a file, a Blob or a stream. */
export function bufferOf(pieces: readonly Piece<Field>[]): Buffer {
  const chunks: Buffer[] = [];
  for (const { part, data } of pieces) {
    if (isSource(data)) {
      throw new MultipartError(
        'ERR_NOT_IN_MEMORY',
        `getBuffer() holds only text and bytes; this part streams from a ${data.description}: pipe the form instead`,
        {
          paramName: part?.label,
        },
      );
    }
    const held = inMemory(data);
    chunks.push(
      typeof held === 'string' ? Buffer.from(held, 'utf8') : Buffer.from(held.buffer, held.byteOffset, held.byteLength),
    );
  }
  return Buffer.concat(chunks);
}

export { bodyLength };
