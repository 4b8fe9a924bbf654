import { MultipartError, UploadError } from '../errors.js';

/**
 * Exit codes, numbered as curl numbers them so scripts that know curl know these.
 * Documented in README.md ("Exit codes").
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  resolve: 6,
  connect: 7,
  httpError: 22,
  write: 23,
  read: 26,
  timeout: 28,
  redirects: 47,
  send: 55,
  receive: 56,
  certificate: 60,
} as const;

export type ExitKind = keyof typeof EXIT;

/** An error the CLI reports in one line, with the exit code of its kind. */
export class CliError extends Error {
  constructor(
    readonly kind: ExitKind,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/** Turns any error into the one line and the exit code the CLI reports. */
export function classify(error: unknown): { kind: ExitKind; message: string } {
  if (error instanceof CliError) return { kind: error.kind, message: error.message };
  if (error instanceof MultipartError) {
    const read = ['ERR_FILE_UNREADABLE', 'ERR_SIZE_MISMATCH', 'ERR_SOURCE_CONSUMED'].includes(error.code);
    return { kind: read ? 'read' : 'usage', message: error.message };
  }
  if (error instanceof UploadError) {
    const cause = error.cause as NodeJS.ErrnoException | undefined;
    const code = cause?.code ?? '';
    switch (error.code) {
      case 'ERR_TIMEOUT':
        return { kind: 'timeout', message: error.message };
      case 'ERR_TOO_MANY_REDIRECTS':
        return { kind: 'redirects', message: error.message };
      case 'ERR_INVALID_URL':
        return { kind: 'usage', message: error.message };
      case 'ERR_ABORTED':
        return { kind: 'failure', message: error.message };
      case 'ERR_REQUEST_FAILED': {
        const host = error.url === undefined ? 'the server' : new URL(error.url).host;
        if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'resolve', message: `could not resolve host ${new URL(error.url!).hostname}` };
        if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return { kind: 'connect', message: `could not connect to ${host}: ${code}` };
        if (CERTIFICATE_CODES.has(code)) return { kind: 'certificate', message: `the certificate of ${host} is not trusted: ${cause?.message ?? code} (use --cacert or --insecure)` };
        if (code === 'ECONNRESET' || code === 'EPIPE') return { kind: 'send', message: `the connection to ${host} was reset: ${code}` };
        return { kind: 'receive', message: error.message };
      }
      default:
        return { kind: 'failure', message: error.message };
    }
  }
  return { kind: 'failure', message: error instanceof Error ? error.message : String(error) };
}
