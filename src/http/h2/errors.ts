import { UploadError, type UploadAttempt } from '../../common/errors.js';

/** RFC 9113 §7: the error codes of RST_STREAM and GOAWAY, by number. */
const CODE_NAMES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

export const NO_ERROR = 0;
export const REFUSED_STREAM = 7;
export const CANCEL = 8;

/** The RFC's name of an HTTP/2 error code (`UNKNOWN_0x2a` for one it does not define). */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `UNKNOWN_0x${code.toString(16)}`;
}

/**
 * Reasons (`UploadAttempt.reason`, the `code` of an UploadError's cause) for a request the server
 * did not process: REFUSED_STREAM, or a stream above a GOAWAY's last stream id. Either may be
 * sent again whatever the method (RFC 9113 §8.7).
 */
const UNPROCESSED = new Set(['REFUSED_STREAM', 'GOAWAY']);

/** True for an upload failure whose request the server did not process: safe to send again whatever the method. */
export function isUnprocessed(error: unknown): boolean {
  if (!(error instanceof UploadError) || error.code !== 'ERR_REQUEST_FAILED') return false;
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && UNPROCESSED.has(code);
}

/** What the attempt knew about the stream when it failed. */
export interface StreamFate {
  /** The stream's id; undefined if it was never sent. */
  id: number | undefined;
  /** The code of the RST_STREAM (either side's) that closed it, if any. */
  rstCode: number | undefined;
  /** The last stream id of a GOAWAY the server sent on this session, if it sent one. */
  lastProcessedStreamId: number | undefined;
}

/** A cause whose `code` names the HTTP/2 reason, for the retry policy and for the caller (`error.cause.code`). */
function h2Cause(code: string, message: string, original: unknown): Error {
  const cause = new Error(message, original === undefined ? undefined : { cause: original });
  return Object.assign(cause, { code });
}

/**
 * The typed error for a stream that ended without an answer. A stream the server did not process
 * gets the reason REFUSED_STREAM or GOAWAY; one the server reset gets the reset's name
 * (INTERNAL_ERROR...); a connection that failed keeps the socket's code (ECONNRESET...), as over HTTP/1.1.
 */
export function streamFailure(
  error: Error | undefined,
  fate: StreamFate,
  url: URL,
  attempts: readonly UploadAttempt[],
): UploadError {
  const { id, rstCode, lastProcessedStreamId } = fate;
  const fail = (cause: Error, message: string) =>
    new UploadError('ERR_REQUEST_FAILED', message, { url: url.href, cause, attempts });
  // nghttp2 closes the streams a GOAWAY left out with REFUSED_STREAM: the GOAWAY is the reason.
  if (lastProcessedStreamId !== undefined && (id === undefined || id > lastProcessedStreamId)) {
    return fail(
      h2Cause('GOAWAY', `the server closed the connection after stream ${lastProcessedStreamId}`, error),
      `${url.host} closed the HTTP/2 connection (GOAWAY) before processing the request`,
    );
  }
  if (rstCode === REFUSED_STREAM) {
    return fail(
      h2Cause('REFUSED_STREAM', 'the server refused the stream', error),
      `${url.host} refused the HTTP/2 stream (REFUSED_STREAM) without processing the request`,
    );
  }
  const socketCode = (error as NodeJS.ErrnoException | undefined)?.code;
  if (socketCode !== undefined && !socketCode.startsWith('ERR_HTTP2')) {
    return fail(error!, `request to ${url.href} failed: ${socketCode}`);
  }
  if (rstCode !== undefined && rstCode !== NO_ERROR) {
    const name = codeName(rstCode);
    return fail(h2Cause(name, `stream closed with ${name}`, error), `${url.host} reset the HTTP/2 stream (${name})`);
  }
  return fail(
    h2Cause('ECONNRESET', 'the stream closed without an answer', error),
    `the HTTP/2 stream to ${url.host} closed before an answer`,
  );
}

/** A failure to set up the connection (TLS, ALPN, the proxy, a peer that does not speak HTTP/2): typed. */
export function connectFailure(error: unknown, url: URL, attempts: readonly UploadAttempt[]): UploadError {
  if (error instanceof UploadError) return error;
  const cause = error instanceof Error ? error : new Error(String(error));
  const code = (cause as NodeJS.ErrnoException).code;
  return new UploadError('ERR_REQUEST_FAILED', `request to ${url.href} failed: ${code ?? cause.message}`, {
    url: url.href,
    cause,
    attempts,
  });
}
