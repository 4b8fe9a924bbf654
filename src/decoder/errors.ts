import { brandOf, hasBrand } from '../common/errors.js';
/** Every error multipartDecode() and its helpers throw on purpose carries one of these codes. */
export type DecodeErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_SOURCE'
  | 'ERR_INVALID_CONTENT_TYPE'
  | 'ERR_INVALID_BOUNDARY'
  | 'ERR_SOURCE_FAILED'
  | 'ERR_BOUNDARY_NOT_FOUND'
  | 'ERR_TRUNCATED'
  | 'ERR_MALFORMED_DELIMITER'
  | 'ERR_MALFORMED_HEADER'
  | 'ERR_HEADER_TOO_LARGE'
  | 'ERR_TOO_MANY_HEADERS'
  | 'ERR_TOO_MANY_PARTS'
  | 'ERR_PART_TOO_LARGE'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_BODY_USED'
  | 'ERR_PART_SKIPPED'
  | 'ERR_INVALID_JSON'
  | 'ERR_MALFORMED_PART'
  | 'ERR_UNEXPECTED_STATUS';

// The ESM and CommonJS builds (and dist/receiver's own copy) each define this class: instanceof
// checks a brand shared through the global symbol registry instead of the prototype chain.
const BRAND = brandOf('DecodeError');

/**
 * A body that cannot be decoded, a limit reached, or a misuse of the decoder. `offset` is the
 * byte of the body (from 0) where the problem was found, when it is about the body's bytes.
 */
export class DecodeError extends Error {
  override name = 'DecodeError';
  readonly code: DecodeErrorCode;
  readonly offset: number | undefined;

  constructor(code: DecodeErrorCode, message: string, options: { offset?: number; cause?: unknown } = {}) {
    super(
      options.offset === undefined ? message : `${message} (at byte ${options.offset})`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.offset = options.offset;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, BRAND);
  }
}
