import type { MultipartErrorCode, UploadErrorCode } from '../index.js';
import { networkFailure, type Route } from './failures.js';
import { messageOf, withoutSignatures } from '../common/messages.js';

/**
 * Exit codes, numbered as curl numbers them so scripts that know curl know these.
 * Documented in docs/cli.md ("Exit codes"); test/cli/exit-codes.test.ts reaches each one.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  /** curl's 1 too: a scheme other than http and https, an answer that is not HTTP/1.x. */
  unsupported: 1,
  usage: 2,
  url: 3,
  resolveProxy: 5,
  resolve: 6,
  connect: 7,
  weirdReply: 8,
  partial: 18,
  httpError: 22,
  write: 23,
  read: 26,
  timeout: 28,
  tls: 35,
  redirects: 47,
  emptyReply: 52,
  send: 55,
  receive: 56,
  certificate: 60,
  /** curl's CURLE_HTTP2_STREAM: the server (or the client, on an answer HTTP/2 forbids) reset the HTTP/2 stream, or ended its connection with an error code. */
  http2Stream: 92,
  /** curl's CURLE_SSL_CACERT_BADFILE: the --cacert file cannot be read. */
  caFile: 77,
} as const;

export type ExitKind = keyof typeof EXIT;

/** An error the CLI reports in one line, with the exit code of its kind. */
export class CliError extends Error {
  constructor(
    readonly kind: ExitKind,
    message: string,
    cause?: unknown,
  ) {
    super(withoutSignatures(message), cause === undefined ? undefined : { cause });
  }
}

/**
 * The exit code of each MultipartError code. A Record over the library's code
 * union, so a code added there without a line here fails `tsc`.
 */
const MULTIPART_EXITS: Record<MultipartErrorCode, ExitKind> = {
  // What the command line asked for cannot be encoded: a bad --boundary, name or type.
  ERR_INVALID_BOUNDARY: 'usage',
  ERR_BOUNDARY_IN_DATA: 'usage', // the chosen --boundary occurs in a file: choose another
  ERR_INVALID_NAME: 'usage',
  ERR_INVALID_VALUE: 'usage',
  ERR_INVALID_HEADER_VALUE: 'usage',
  ERR_INVALID_HEADER_NAME: 'usage',
  ERR_HEADER_CONFLICT: 'usage',
  ERR_INVALID_RANGE: 'usage',
  ERR_VALUE_AND_FILEOBJ: 'usage',
  ERR_INVALID_PARAMS: 'usage',
  ERR_INVALID_OPTION: 'usage',
  // An input could not be read, or changed while it was sent.
  ERR_FILE_UNREADABLE: 'read',
  ERR_SIZE_MISMATCH: 'read',
  ERR_SOURCE_CONSUMED: 'read',
  ERR_SOURCE_FAILED: 'read',
  ERR_SPOOL_LIMIT: 'read', // a stream (stdin) larger than the spool allows
  // A local write failed: the temporary file standard input is spooled to (a full disk, a bad TMPDIR).
  ERR_SPOOL_FAILED: 'write',
  // Cannot come from the CLI's own use of the library: a bug if they do.
  ERR_SIZE_UNKNOWN: 'failure',
  ERR_NOT_IN_MEMORY: 'failure',
  ERR_CALLBACK_FAILED: 'failure',
  ERR_BLOB_UNSUPPORTED: 'failure',
};

/** The exit code of each UploadError code; ERR_REQUEST_FAILED is decided by its cause. */
const UPLOAD_EXITS: Record<UploadErrorCode, ExitKind | 'by cause'> = {
  ERR_INVALID_URL: 'url',
  ERR_INVALID_OPTION: 'usage',
  ERR_INVALID_HEADER: 'usage',
  ERR_TIMEOUT: 'timeout',
  ERR_TOO_MANY_REDIRECTS: 'redirects',
  ERR_UNEXPECTED_RESPONSE: 'receive', // e.g. 101 Switching Protocols to a request that asked for no upgrade
  ERR_SIZE_MISMATCH: 'read', // a file changed size while it was being sent
  ERR_BODY_NOT_REPLAYABLE: 'failure',
  ERR_ABORTED: 'failure',
  ERR_CALLBACK_FAILED: 'failure',
  ERR_RUNTIME_UNSUPPORTED: 'failure', // Node run without its fetch classes (NODE_OPTIONS=--no-experimental-fetch)
  ERR_REQUEST_FAILED: 'by cause',
};

/**
 * Which of the library's error families `error` belongs to, and its code. Decided by
 * `name` and `code` (strings), not by class identity, so an error from another copy
 * of the library is classified the same.
 */
export function libraryError(error: unknown): { family: 'multipart' | 'upload'; code: string } | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  if (error.name === 'MultipartError') return { family: 'multipart', code };
  if (error.name === 'UploadError') return { family: 'upload', code };
  return undefined;
}

export interface Classified {
  kind: ExitKind;
  message: string;
}

/**
 * Turns any error into the one line and the exit code the CLI reports. `route` says which proxy,
 * if any, a URL was sent through: a failure to reach it is then the proxy's, not the target's.
 */
export function classify(error: unknown, route: Route = () => undefined): Classified {
  if (error instanceof CliError) return { kind: error.kind, message: error.message };
  const library = libraryError(error);
  const message = messageOf(error);
  if (library?.family === 'multipart') {
    return { kind: (MULTIPART_EXITS as Record<string, ExitKind | undefined>)[library.code] ?? 'failure', message };
  }
  if (library?.family === 'upload') {
    if (library.code === 'ERR_INVALID_URL' && otherScheme(error)) return { kind: 'unsupported', message };
    const kind = (UPLOAD_EXITS as Record<string, ExitKind | 'by cause' | undefined>)[library.code] ?? 'failure';
    if (kind !== 'by cause') return { kind, message };
    const failed = error as Error & { url?: string };
    // The cause may itself be one of the library's errors (a file that failed mid-body).
    if (libraryError(failed.cause) !== undefined) return classify(failed.cause, route);
    return networkFailure(failed, route);
  }
  return { kind: 'failure', message };
}

/**
 * An ERR_INVALID_URL about a URL that parses but is not http or https (a redirect to `ftp://`,
 * named by its cause): curl's 1, "unsupported protocol", as for such a URL on the command line;
 * a URL that cannot be parsed stays 3.
 */
function otherScheme(error: unknown): boolean {
  for (let at = error; at instanceof Error; at = at.cause) {
    const url = (at as { url?: unknown }).url;
    if (typeof url === 'string' && URL.canParse(url) && !/^https?:$/.test(new URL(url).protocol)) return true;
  }
  return false;
}
