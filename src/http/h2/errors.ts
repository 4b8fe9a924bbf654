import { UploadError, type UploadAttempt } from '../../common/errors.js';
import { messageOf } from '../../common/messages.js';
import { http2CodeName } from '../../common/http2-codes.js';

export const NO_ERROR = 0;
export const PROTOCOL_ERROR = 1;
export const INTERNAL_ERROR = 2;
export const REFUSED_STREAM = 7;
export const CANCEL = 8;
export const ENHANCE_YOUR_CALM = 11;

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
  /** The code of the RST_STREAM (either side's) that closed it, if any; Node also sets one when the connection goes. */
  rstCode: number | undefined;
  /** The last stream id of a GOAWAY the server sent on this session, if it sent one. */
  lastProcessedStreamId: number | undefined;
  /** What the session knew of its own end (see SessionEnd), if it ended. */
  session?: SessionEnd;
  /** The session was destroyed when the stream failed. */
  sessionDestroyed?: boolean;
}

/** How a session ended, as the pool saw it. */
export interface SessionEnd {
  /** The error code of the server's GOAWAY, if one came. */
  goawayCode: number | undefined;
  /** The session's own failure: a socket error, or a protocol error the client caught in what the server sent. */
  failure: Error | undefined;
  /** The connection under the session ended or closed. */
  connectionLost: boolean;
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
  const ended =
    fate.session === undefined
      ? undefined
      : sessionFailure(error, fate.session, { rstCode, destroyed: fate.sessionDestroyed === true }, url);
  if (ended !== undefined) return fail(ended.cause, ended.message);
  const socketCode = (error as NodeJS.ErrnoException | undefined)?.code;
  if (socketCode !== undefined && !socketCode.startsWith('ERR_HTTP2')) {
    return fail(error!, `request to ${url.href} failed: ${socketCode}`);
  }
  if (rstCode !== undefined && rstCode !== NO_ERROR) {
    const name = http2CodeName(rstCode);
    return fail(
      h2Cause(name, `stream closed with ${name}`, error),
      `the HTTP/2 stream to ${url.host} ${resetBy(rstCode, url)}`,
    );
  }
  return fail(
    h2Cause('ECONNRESET', 'the stream closed without an answer', error),
    `the HTTP/2 stream to ${url.host} closed before an answer`,
  );
}

/**
 * Who reset a stream, as far as can be told. nghttp2 itself resets a stream whose answer HTTP/2
 * forbids (a 101, a 1xx that ends the stream, a malformed header block) with PROTOCOL_ERROR, and Node
 * one whose answer has more header fields than its limit (128, `:status` included) with
 * ENHANCE_YOUR_CALM, before the answer is handed on: either cannot be told from the server's reset.
 * (The limit is kept: with HPACK, each field may repeat a 4 KiB one, and it bounds an answer's size.)
 */
function resetBy(rstCode: number, url: URL): string {
  if (rstCode === PROTOCOL_ERROR)
    return `was reset with PROTOCOL_ERROR (by ${url.host}, or by the client on an answer HTTP/2 forbids)`;
  if (rstCode === ENHANCE_YOUR_CALM)
    return `was reset with ENHANCE_YOUR_CALM (by ${url.host}, or by the client on an answer with more than 127 header fields)`;
  return `was reset by ${url.host} (${http2CodeName(rstCode)})`;
}

/**
 * The failure of a stream whose session ended under it, or undefined while the session lives (the
 * stream's own reset is then the reason). Node resets the streams of a session that goes with a
 * code of its own (CANCEL, INTERNAL_ERROR): that is not the server resetting them.
 */
function sessionFailure(
  error: Error | undefined,
  session: SessionEnd,
  { rstCode, destroyed }: { rstCode: number | undefined; destroyed: boolean },
  url: URL,
): { cause: Error; message: string } | undefined {
  const { goawayCode, connectionLost } = session;
  // An NghttpError is nghttp2's report of a protocol error it caught in what the server sent; a session
  // Node destroyed on an error resets its streams with INTERNAL_ERROR, a code of its own, not the server's.
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const caught =
    code === 'ERR_HTTP2_ERROR' || (destroyed && rstCode === INTERNAL_ERROR && !connectionLost)
      ? (error ?? new Error('Node closed the session on an error'))
      : undefined;
  const failure = session.failure ?? caught;
  if (goawayCode !== undefined && goawayCode !== NO_ERROR) {
    const name = http2CodeName(goawayCode);
    return {
      cause: h2Cause(name, `the server closed the connection with ${name}`, failure ?? error),
      message: `${url.host} closed the HTTP/2 connection (GOAWAY ${name})`,
    };
  }
  const socketCode = (failure as NodeJS.ErrnoException | undefined)?.code;
  if (failure !== undefined && socketCode !== undefined && !socketCode.startsWith('ERR_HTTP2')) {
    return { cause: failure, message: `request to ${url.href} failed: ${socketCode}` };
  }
  if (failure !== undefined) {
    return {
      cause: h2Cause('PROTOCOL_ERROR', `a protocol error by the server: ${failure.message}`, failure),
      message: `the client closed the HTTP/2 connection to ${url.host} on a protocol error by the server (${failure.message})`,
    };
  }
  // Node closes a stream whose connection went with CANCEL; a server's own reset just before keeps its code.
  if (connectionLost && (rstCode === undefined || rstCode === CANCEL || rstCode === NO_ERROR)) {
    return {
      cause: h2Cause('ECONNRESET', 'the connection closed without an answer', error),
      message: `the HTTP/2 connection to ${url.host} closed before an answer`,
    };
  }
  return undefined;
}

/** A failure to set up the connection (TLS, ALPN, the proxy, a peer that does not speak HTTP/2): typed. */
export function connectFailure(error: unknown, url: URL, attempts: readonly UploadAttempt[]): UploadError {
  if (error instanceof UploadError) return error;
  const cause = error instanceof Error ? error : new Error(messageOf(error));
  const code = (cause as NodeJS.ErrnoException).code;
  return new UploadError('ERR_REQUEST_FAILED', `request to ${url.href} failed: ${code ?? cause.message}`, {
    url: url.href,
    cause,
    attempts,
  });
}
