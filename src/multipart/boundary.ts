import { crypto } from '../common/lazy.js';
import { MultipartError } from '../common/errors.js';
import { multipartContentType } from './wire.js';

// RFC 2046 §5.1.1: 1 to 70 characters of bcharsnospace/space, not ending in a space.
const VALID_BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/**
 * A fresh boundary: 128 random bits from `crypto`, hex-encoded, RFC 2046-valid. All lower
 * case, so that it survives whatever lower-cases a media type (`new Blob(parts, { type })` does).
 */
export function genBoundary(): string {
  return `----multipartposter${crypto().randomBytes(16).toString('hex')}`;
}

export function isValidBoundary(boundary: unknown): boundary is string {
  return typeof boundary === 'string' && VALID_BOUNDARY.test(boundary);
}

export function assertValidBoundary(boundary: unknown): asserts boundary is string {
  if (!isValidBoundary(boundary)) {
    throw new MultipartError(
      'ERR_INVALID_BOUNDARY',
      `invalid boundary ${JSON.stringify(boundary)}: RFC 2046 allows 1 to 70 characters from ` +
        `0-9 A-Z a-z ' ( ) + _ , - . / : = ? and space, not ending in a space`,
    );
  }
}

/** The request's `Content-Type` header value for a form with this boundary. */
export function formDataContentType(boundary: string): string {
  return multipartContentType('form-data', boundary);
}
