import { UploadError } from '../common/errors.js';
import { boundaryOf } from '../common/media-type.js';
import { messageOf } from '../common/messages.js';
import type { EncodedBody } from '../multipart/encode.js';
import { HeaderList, headerListOf } from './header-list.js';

/** What node:http sends in a header value (RFC 9110 field-vchar, obs-text, space, tab); Headers lets DEL and ESC through. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Headers that describe the body: upload() sets them from the body on every request. */
const BODY_HEADERS = ['content-type', 'content-length', 'transfer-encoding', 'expect'];

/**
 * Headers that belong to the first origin: not sent to another origin a redirect leads to. The
 * credentials that identify the caller there, and a Host the caller set (a virtual host of that
 * origin: the new one gets its own, from its URL).
 */
export const ORIGIN_BOUND_HEADERS = ['authorization', 'cookie', 'proxy-authorization', 'host'];

/** The caller's headers, checked as node:http will check them when the request is made. */
export function baseHeaders(init: unknown): HeaderList {
  let headers: HeaderList;
  try {
    headers = headerListOf(init);
  } catch (cause) {
    throw new UploadError('ERR_INVALID_HEADER', `invalid headers: ${messageOf(cause)}`, { cause });
  }
  for (const [name, value] of headers) {
    if (!FIELD_VALUE.test(value)) {
      throw new UploadError(
        'ERR_INVALID_HEADER',
        `header ${name}: ${JSON.stringify(value)} holds a control character, which HTTP does not allow in a value`,
      );
    }
  }
  return headers;
}

/**
 * The caller's Content-Type, checked against the body: for a raw body it wins over
 * the guess; for a multipart body it must carry the body's own boundary.
 */
export function callerContentType(headers: HeaderList, encoded: EncodedBody): string | undefined {
  for (const name of ['content-length', 'transfer-encoding', 'expect']) {
    const value = headers.get(name);
    if (value === null) continue;
    if (name === 'content-length' && value === String(encoded.contentLength)) continue;
    const why = name === 'expect' ? 'use the expectContinue option' : "upload() sends the body's exact length itself";
    throw new UploadError('ERR_INVALID_HEADER', `header ${name}: ${JSON.stringify(value)} cannot be set here: ${why}`);
  }
  const type = headers.get('content-type');
  if (type === null) return undefined;
  const boundary = (encoded as { boundary?: unknown }).boundary;
  if (typeof boundary !== 'string') return type;
  if (!/^multipart\//i.test(type) || boundaryOf(type) !== boundary) {
    throw new UploadError(
      'ERR_INVALID_HEADER',
      `content-type ${JSON.stringify(type)} does not carry the body's boundary ${JSON.stringify(boundary)}; leave it out and the body's own is sent`,
    );
  }
  return type;
}

/** The head of one request: the caller's headers, then the body's own (its type and length), never `Expect` (set later). */
export function requestHeaders(
  caller: HeaderList,
  body: EncodedBody | undefined,
  contentType: string | undefined,
): Record<string, string> {
  const headers = new HeaderList(caller);
  for (const name of BODY_HEADERS) headers.delete(name);
  if (body !== undefined) {
    for (const [name, value] of Object.entries(body.headers)) headers.set(name, value);
    if (contentType !== undefined) headers.set('content-type', contentType);
  }
  return Object.fromEntries(headers);
}
