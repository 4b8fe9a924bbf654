import { withoutSignatures } from './messages.js';

/** Every error this library throws on purpose carries one of these codes. */
export type MultipartErrorCode =
  | 'ERR_INVALID_BOUNDARY'
  | 'ERR_BOUNDARY_IN_DATA'
  | 'ERR_INVALID_NAME'
  | 'ERR_INVALID_VALUE'
  | 'ERR_INVALID_HEADER_VALUE'
  | 'ERR_INVALID_HEADER_NAME'
  | 'ERR_HEADER_CONFLICT'
  | 'ERR_INVALID_RANGE'
  | 'ERR_VALUE_AND_FILEOBJ'
  | 'ERR_INVALID_PARAMS'
  | 'ERR_SIZE_UNKNOWN'
  | 'ERR_SIZE_MISMATCH'
  | 'ERR_FILE_UNREADABLE'
  | 'ERR_SOURCE_CONSUMED'
  | 'ERR_SOURCE_FAILED'
  | 'ERR_NOT_IN_MEMORY'
  | 'ERR_INVALID_OPTION'
  | 'ERR_CALLBACK_FAILED'
  | 'ERR_BLOB_UNSUPPORTED'
  | 'ERR_SPOOL_LIMIT'
  | 'ERR_SPOOL_FAILED';

/**
 * Marks errors so that `instanceof` holds across copies of the library (its ESM and CommonJS builds,
 * or two installed versions): each class keeps a global symbol on its instances and checks for it,
 * rather than for its own prototype.
 */
export function brandOf(name: string): symbol {
  return Symbol.for(`multipart-poster.${name}`);
}

/** True when `value` carries the brand; false, never a throw, for a Proxy whose traps throw (a caller's thrown value). */
export function hasBrand(value: unknown, brand: symbol): boolean {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return (value as Record<symbol, unknown>)[brand] === true;
  } catch {
    return false;
  }
}

const MULTIPART_ERROR = brandOf('MultipartError');
const UPLOAD_ERROR = brandOf('UploadError');

/**
 * A problem with the data being encoded. `paramName` names the field at fault,
 * when there is one, so a caller can report which input was wrong.
 */
export class MultipartError extends Error {
  override name = 'MultipartError';
  readonly code: MultipartErrorCode;
  readonly paramName: string | undefined;

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, MULTIPART_ERROR);
  }

  constructor(code: MultipartErrorCode, message: string, options: { paramName?: string; cause?: unknown } = {}) {
    const prefix = options.paramName === undefined ? '' : `field ${JSON.stringify(options.paramName)}: `;
    super(prefix + message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.paramName = options.paramName;
    Object.defineProperty(this, MULTIPART_ERROR, { value: true });
  }
}

export type UploadErrorCode =
  | 'ERR_INVALID_URL'
  | 'ERR_TOO_MANY_REDIRECTS'
  | 'ERR_BODY_NOT_REPLAYABLE'
  | 'ERR_ABORTED'
  | 'ERR_TIMEOUT'
  | 'ERR_REQUEST_FAILED'
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_HEADER'
  | 'ERR_UNEXPECTED_RESPONSE'
  | 'ERR_SIZE_MISMATCH'
  | 'ERR_CALLBACK_FAILED'
  | 'ERR_RUNTIME_UNSUPPORTED';

/** An attempt of `upload()` that failed and was retried (given to `retry.onRetry`, listed in `UploadError.attempts`). */
export interface UploadAttempt {
  /** Which attempt failed, from 1. */
  attempt: number;
  /** Why: the response's status, or the error code (`ECONNRESET`, ...). */
  reason: number | string;
  /** The status of a response that was retried, else undefined. */
  status: number | undefined;
  /** The error of an attempt that got no answer, else undefined. */
  error: UploadError | undefined;
  /** Milliseconds waited before the next attempt. */
  delay: number;
  url: string;
}

/** A problem with the HTTP exchange in `upload()`. */
export class UploadError extends Error {
  override name = 'UploadError';
  readonly code: UploadErrorCode;
  readonly url: string | undefined;
  /** The earlier attempts that failed and were retried, in order; this error is why the last one failed. */
  readonly attempts: readonly UploadAttempt[];

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, UPLOAD_ERROR);
  }

  constructor(
    code: UploadErrorCode,
    message: string,
    options: { url?: string; cause?: unknown; attempts?: readonly UploadAttempt[] } = {},
  ) {
    super(withoutSignatures(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.url = options.url === undefined ? undefined : withoutSignatures(options.url);
    this.attempts = (options.attempts ?? []).map((attempt) => ({ ...attempt, url: withoutSignatures(attempt.url) }));
    Object.defineProperty(this, UPLOAD_ERROR, { value: true });
  }
}
