import { MultipartError } from '../common/errors.js';
import { assertHeaderValue } from './headers.js';
import type { NestedBody, Piece } from './wire.js';

/**
 * An encoded multipart body (what `multipartEncode` returns) used as a part's value: the part
 * carries that body, with its own boundary and Content-Type.
 */
export interface NestedForm {
  readonly boundary: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: AsyncIterable<Buffer>;
}

/**
 * What an encoded body shows a part that nests it: its pieces, the boundary they were framed with
 * and the Content-Type it was encoded with. Keys in the global symbol registry, so that a body of
 * the ESM build nests in a part of the CommonJS build and back.
 */
export const PIECES = Symbol.for('multipart-poster.pieces');
export const BOUNDARY = Symbol.for('multipart-poster.boundary');
export const CONTENT_TYPE = Symbol.for('multipart-poster.contentType');

type Nestable = Record<typeof PIECES | typeof BOUNDARY | typeof CONTENT_TYPE, unknown>;

/** Whether a value is an encoded multipart body, by shape (a body of either build). */
export function isNestedForm(value: unknown): value is NestedForm {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return false;
  const { boundary, body } = value as Partial<NestedForm>;
  return (
    typeof boundary === 'string' &&
    typeof body === 'object' &&
    body !== null &&
    Array.isArray((body as unknown as Nestable)[PIECES])
  );
}

/**
 * A nested body's Content-Type, as a part header, is data of the outer body: it must be a clean
 * header value, and exactly the one the body was encoded with (so it names the boundary the
 * pieces were framed with, whatever was done to the object it came in).
 */
export function nestedBody(form: NestedForm, label: string | undefined): NestedBody & { contentType: string } {
  const type: unknown = form.headers['Content-Type'];
  const body = form.body as unknown as Nestable;
  const boundary = body[BOUNDARY];
  if (typeof type !== 'string' || typeof boundary !== 'string' || form.boundary !== boundary) {
    throw new MultipartError(
      'ERR_INVALID_VALUE',
      'a nested body must be a multipart body (what multipartEncode returns)',
      { paramName: label },
    );
  }
  assertHeaderValue(type, 'the Content-Type of a nested body', label);
  if (type !== body[CONTENT_TYPE]) {
    throw new MultipartError(
      'ERR_INVALID_VALUE',
      `the Content-Type of the nested body is not the one it was encoded with (naming its boundary ${JSON.stringify(boundary)}): ${JSON.stringify(type)}`,
      { paramName: label },
    );
  }
  return { boundary, contentType: type, pieces: body[PIECES] as readonly Piece<unknown>[] };
}
