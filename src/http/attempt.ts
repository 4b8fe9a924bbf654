import type { Agent, ClientRequest, IncomingHttpHeaders } from 'node:http';
import { MultipartError, UploadError, type UploadAttempt } from '../common/errors.js';
import { visible } from '../common/visible.js';
import { wait } from '../common/wait.js';
import type { EncodedBody } from '../multipart/encode.js';
import { proxyRefused, requestRefused } from './agent.js';
import { noteTlsHandshake } from './handshake.js';
import { writeBody, type BodyWriterSettings } from './body-writer.js';
import { readAnswerBeforeWriteErrors } from './early-answer.js';
import type { TlsOptions } from './options.js';
import { RequestState } from './request-state.js';

/** How long an answer waits for the body loop to let go of its source (close its file) before it is handed on anyway. */
const BODY_RELEASE_GRACE_MS = 250;

/** One request as it goes on the wire. */
export interface AttemptRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: EncodedBody | undefined;
  agent: Agent | undefined;
  tls: TlsOptions | undefined;
  /** BodyWriterSettings' expectContinue is whether this request sends `Expect: 100-continue`. */
  writer: BodyWriterSettings;
}

/** What one request brought back: a final answer, and whether the whole body went out before it. */
export interface Answer {
  res: AnswerMessage;
  /** Its request: destroyed when its body was cut short (an HTTP/1.1 connection is then unusable). */
  req: { destroy(): void };
  bodySent: boolean;
}

/** What upload() uses of an answer: node:http's IncomingMessage, or an HTTP/2 stream's answer (h2/message.ts). */
export interface AnswerMessage extends AsyncIterable<Buffer> {
  readonly statusCode?: number | undefined;
  readonly statusMessage?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  resume(): unknown;
  destroy(error?: Error): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
}

/**
 * One request: resolves once a final answer has arrived (whether or not the body was all sent),
 * rejects with a typed UploadError when the connection, the body or the signal ends it first.
 * Settles only once the body loop has let go of its source (its file closed).
 */
export async function sendAttempt(
  request: AttemptRequest,
  signal: AbortSignal,
  attempts: readonly UploadAttempt[],
): Promise<Answer> {
  signal.throwIfAborted();
  // Loaded on first use: code that only encodes never pays for http, https and tls.
  const transport = request.url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  signal.throwIfAborted();
  let req: ClientRequest;
  try {
    req = transport.request(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.agent === undefined ? {} : { agent: request.agent }),
      ...request.tls,
    });
  } catch (cause) {
    throw requestRefused(cause, request.url);
  }
  req.on('socket', readAnswerBeforeWriteErrors);
  // Set once the agent has the request, never through the constructor: with Expect among its
  // headers, Node queues the head each time it is built, and http-proxy-agent builds it again
  // (absolute-form) in addRequest and once connected: the proxy got the head three times.
  if (request.writer.expectContinue) req.setHeader('expect', '100-continue');
  return await new Promise<Answer>((resolve, reject) => {
    const state = new RequestState();
    const attempt = { req, state, url: request.url, signal, attempts, resolve, reject, sending: Promise.resolve(true) };
    listen(attempt);
    if (request.body === undefined) return void req.end();
    attempt.sending = writeBody(req, request.body, request.writer, state).catch((error: unknown) => {
      fail(attempt, error as Error); // the body itself failed: the server must see an aborted request
      req.destroy(); // also when an answer came first: the body was not all sent
      return false;
    });
  });
}

interface Attempt {
  req: ClientRequest;
  state: RequestState;
  url: URL;
  signal: AbortSignal;
  attempts: readonly UploadAttempt[];
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
  /** The body loop: true once all of it went out. */
  sending: Promise<boolean>;
}

/** Every way a request ends: an answer, an error, an upgrade nobody asked for, a close without an answer, an abort. */
function listen(attempt: Attempt): void {
  const { req, state, url, signal } = attempt;
  req.on('error', (error) => fail(attempt, error));
  // A tunnelling proxy agent (https-proxy-agent's) reports its CONNECT's status here; on a refusal
  // it would hand the request the proxy's own answer, as if the origin had sent it. (A forwarding
  // one, http-proxy-agent's, reports its connection with no status.)
  req.on('proxyConnect', (answer: { statusCode?: unknown } | undefined) => {
    const status = answer?.statusCode;
    if (typeof status === 'number' && status !== 200) fail(attempt, proxyRefused(status, url));
  });
  req.on('upgrade', (res, socket) => {
    socket.destroy();
    const status = visible(`${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd()); // the server's text
    const message = `the server answered ${status}, switching protocols though none was asked for`;
    fail(attempt, new UploadError('ERR_UNEXPECTED_RESPONSE', message, { url: url.href }));
  });
  const onAbort = () => fail(attempt, signal.reason as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  req.once('close', () => {
    signal.removeEventListener('abort', onAbort);
    const closed = `the connection to ${url.host} closed before an answer`;
    fail(attempt, new UploadError('ERR_REQUEST_FAILED', closed, { url: url.href, attempts: attempt.attempts }));
  });
  req.on('response', (res) => {
    if (state.failure !== undefined) return void res.destroy();
    state.answered(res);
    void afterBody(attempt).then((bodySent) => {
      if (state.callbackFailure === undefined) return attempt.resolve({ res, req, bodySent });
      // A callback of the caller's threw while the answer came: the upload fails with it all the same.
      res.destroy();
      req.destroy();
      attempt.reject(state.callbackFailure);
    });
  });
}

/** The first failure ends the request; after an answer, a reset changes nothing. */
function fail(attempt: Attempt, error: Error): void {
  const { state, signal } = attempt;
  if (state.settled) return;
  const socketError = !signal.aborted && !(error instanceof UploadError) && !(error instanceof MultipartError);
  if (socketError) noteTlsHandshake(error, attempt.req.socket);
  state.failed(signal.aborted ? (signal.reason as Error) : typed(error, attempt.url, attempt.attempts));
  attempt.req.destroy();
  void afterBody(attempt).then(() => attempt.reject(state.failure!));
}

/** Waits for the body loop to let go of its source, or a short grace for a caller's stream that never yields again. */
function afterBody(attempt: Attempt): Promise<boolean> {
  const grace = wait(BODY_RELEASE_GRACE_MS, { ref: false }).then(() => false);
  return Promise.race([attempt.sending, grace]);
}

/**
 * Every failure as an UploadError: the body's source that failed mid-body (a file that shrank)
 * keeps its MultipartError as `cause`, a socket error its Node error.
 */
export function typed(error: Error, url: URL, attempts: readonly UploadAttempt[]): UploadError {
  if (error instanceof UploadError) return error;
  if (error instanceof MultipartError) {
    const code =
      error.code === 'ERR_SIZE_MISMATCH' || error.code === 'ERR_CALLBACK_FAILED' ? error.code : 'ERR_REQUEST_FAILED';
    return new UploadError(code, `the body could not be sent: ${error.message}`, {
      url: url.href,
      cause: error,
      attempts,
    });
  }
  const code = (error as NodeJS.ErrnoException).code;
  return new UploadError('ERR_REQUEST_FAILED', `request to ${url.href} failed: ${code ?? error.message}`, {
    url: url.href,
    cause: error,
    attempts,
  });
}
