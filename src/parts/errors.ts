import { brandOf, hasBrand } from '../common/errors.js';
import { withoutSignatures } from '../common/messages.js';

export type PartsErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_VALUE'
  | 'ERR_ABORTED'
  | 'ERR_START_FAILED'
  | 'ERR_PIECE_FAILED'
  | 'ERR_COMPLETE_FAILED'
  | 'ERR_COMPLETE_UNKNOWN'
  | 'ERR_SESSION_EXPIRED'
  | 'ERR_CHECKSUM_MISMATCH'
  | 'ERR_SOURCE_CHANGED'
  | 'ERR_UNEXPECTED_RESPONSE'
  | 'ERR_STORE_FAILED'
  | 'ERR_CALLBACK_FAILED';

/** A piece the server had when the call stopped: its byte range and, for S3, its part number and ETag. */
export interface StoredPiece {
  start: number;
  end: number;
  partNumber?: number;
  etag?: string;
}

const PARTS_ERROR = brandOf('PartsError');

export interface PartsErrorOptions {
  cause?: unknown;
  /** The HTTP status that made the step fail, when an answer did. */
  status?: number;
  url?: string;
}

/**
 * Why `uploadParts` failed. `stored` lists what the server had when it stopped; `abandoned` says
 * whether the protocol's abandon step then removed it (S3 AbortMultipartUpload, tus DELETE...).
 */
export class PartsError extends Error {
  override name = 'PartsError';
  readonly code: PartsErrorCode;
  readonly status: number | undefined;
  readonly url: string | undefined;
  /** The upload's id on the server (S3's UploadId, the tus or Google session URL), once it has one. */
  session: string | undefined = undefined;
  /** The pieces stored when the call stopped, in byte order. */
  stored: readonly StoredPiece[] = [];
  /** True once the abandon step ran and the server confirmed it. */
  abandoned = false;
  /** Why the abandon step failed, when it ran and did. */
  abandonError: Error | undefined = undefined;

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, PARTS_ERROR);
  }

  constructor(code: PartsErrorCode, message: string, options: PartsErrorOptions = {}) {
    super(withoutSignatures(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.url = options.url === undefined ? undefined : withoutSignatures(options.url);
    Object.defineProperty(this, PARTS_ERROR, { value: true });
  }
}

export const partsOptionError = (message: string): PartsError => new PartsError('ERR_INVALID_OPTION', message);
