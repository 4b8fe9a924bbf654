import { brandOf, hasBrand } from '../common/errors.js';
export type ReceiveErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_CONTENT_TYPE'
  | 'ERR_MALFORMED_BODY'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_TOO_MANY_PARTS'
  | 'ERR_TOO_MANY_HEADERS'
  | 'ERR_HEADER_TOO_LARGE'
  | 'ERR_IDLE_TIMEOUT'
  | 'ERR_REQUEST_TIMEOUT'
  | 'ERR_CLIENT_GONE'
  | 'ERR_CALLBACK_FAILED';

/** The answer each code is given. */
export const STATUS_OF: Readonly<Record<ReceiveErrorCode, 400 | 408 | 413 | 500>> = {
  ERR_INVALID_OPTION: 500,
  ERR_INVALID_CONTENT_TYPE: 400,
  ERR_MALFORMED_BODY: 400,
  ERR_BODY_TOO_LARGE: 413,
  ERR_TOO_MANY_PARTS: 413,
  ERR_TOO_MANY_HEADERS: 413,
  ERR_HEADER_TOO_LARGE: 413,
  ERR_IDLE_TIMEOUT: 408,
  // Node's server answered 408 itself and closed the connection.
  ERR_REQUEST_TIMEOUT: 408,
  // No answer can reach a client that went away; 400 is what a log shows.
  ERR_CLIENT_GONE: 400,
  ERR_CALLBACK_FAILED: 500,
};

const BRAND = brandOf('ReceiveError');

/** The code a ReceiveError made from a status alone gets (the constructor of earlier versions). */
const CODE_OF_STATUS: Readonly<Record<400 | 408 | 413, ReceiveErrorCode>> = {
  400: 'ERR_MALFORMED_BODY',
  408: 'ERR_IDLE_TIMEOUT',
  413: 'ERR_BODY_TOO_LARGE',
};

/**
 * Why a request was refused. `status` is the answer to give: 400 for a malformed body (or a client
 * that went away, when no answer can reach it), 408 for a client that stopped sending (or whose
 * request outlasted the server's `requestTimeout`), 413 for a body over a limit, 500 for the
 * server's own fault (an invalid option, a callback that threw). A malformed body's `cause` is the
 * DecodeError, with the byte offset.
 */
export class ReceiveError extends Error {
  override name = 'ReceiveError';
  readonly code: ReceiveErrorCode;
  readonly status: 400 | 408 | 413 | 500;

  /** @deprecated A ReceiveError made the earlier way, from a status: its code is the status's usual one. */
  constructor(message: string, status: 400 | 408 | 413);
  constructor(code: ReceiveErrorCode, message: string, options?: { cause?: unknown });
  constructor(first: string, second: string | 400 | 408 | 413, options: { cause?: unknown } = {}) {
    const [code, message] =
      typeof second === 'number' ? [CODE_OF_STATUS[second], first] : [first as ReceiveErrorCode, second];
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = STATUS_OF[code];
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, BRAND);
  }
}
