import type { ClientHttp2Stream, IncomingHttpHeaders, IncomingHttpStatusHeader, OutgoingHttpHeaders } from 'node:http2';
import { MultipartError, UploadError, type UploadAttempt } from '../../common/errors.js';
import type { EncodedBody } from '../../multipart/encode.js';
import type { Clock } from '../rate.js';
import { writeBody } from './body.js';
import { streamFailure } from './errors.js';
import { watchEndOfStream } from './message.js';
import type { SessionLease } from './pool.js';
import { watchRejection } from '../../common/callback.js';
import { callbackError } from '../callback-error.js';

/** One request over HTTP/2: what upload() hands an attempt. */
export interface H2Request {
  url: URL;
  method: string;
  /** The request's headers, names lowercased, Content-Type and Content-Length included; connection-specific ones are dropped. */
  headers: Iterable<readonly [string, string]>;
  body: EncodedBody | undefined;
  /** The exchange's signal: the caller's abort or the timeout. Either closes the stream, never the session. */
  signal: AbortSignal;
  onUploadProgress: ((loaded: number, total: number | undefined) => void) | undefined;
  onBodySent: (() => void) | undefined;
  /** Where an `async` callback's rejection goes once this stream has settled (see BodyWriterSettings). */
  onLateFailure?: ((error: UploadError) => void) | undefined;
  maxRate: number | undefined;
  /** The exchange's earlier attempts, for the errors raised here. */
  attempts: readonly UploadAttempt[];
  /** How the caller types a failure of its own making (the body's source, a callback), as over HTTP/1.1. */
  typed?: (error: UploadError | MultipartError) => UploadError;
  clock?: Clock;
}

/** A final answer on its stream, and whether the whole body went out before it. */
export interface H2Answer {
  status: number;
  /** The response headers, pseudo-headers left out. */
  headers: IncomingHttpHeaders;
  /** The response body (the stream's readable side). */
  stream: ClientHttp2Stream;
  bodySent: boolean;
  /** True once the server ended the stream (END_STREAM): a response body that ends otherwise was cut short. */
  ended(): boolean;
  /**
   * Lets go of the stream: once the answer was read to its end, a request body cut short by it is
   * ended with RST_STREAM NO_ERROR (RFC 9113 §8.1); an answer not read to its end is cancelled.
   */
  close(): void;
  /** Cancels the stream (RST_STREAM CANCEL): whoever reads the answer gets an AbortError whose `cause` is `reason`. */
  cancel(reason: Error): void;
}

/** How long a settled attempt waits for its body loop to let go of the source (files closed). */
const BODY_RELEASE_GRACE_MS = 250;
/** RFC 9113 §8.2.2: headers that are HTTP/1.1's connection management, malformed in HTTP/2. */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * Sends one request on a pooled session. Resolves with the final answer once it arrives (the body
 * stops at an early answer) and the body loop has let go of its source; rejects with a typed
 * UploadError. The lease is released when the stream closes, whatever happens.
 */
export function sendH2(lease: SessionLease, request: H2Request): Promise<H2Answer> {
  const { signal, body } = request;
  // Node's Http2Stream.close() ends the stream's writable side first: an empty DATA frame with
  // END_STREAM goes out before the RST_STREAM, and a server that does not check Content-Length
  // takes a body cut short for a whole one. Destroying it through the request's own signal sends
  // RST_STREAM CANCEL alone; destroy() without an error, RST_STREAM NO_ERROR alone.
  const cancel = new AbortController();
  let stream: ClientHttp2Stream;
  try {
    signal.throwIfAborted();
    stream = lease.session.request(requestHeaders(request), { endStream: body === undefined, signal: cancel.signal });
  } catch (error) {
    lease.release();
    return Promise.reject(unsent(error, lease, request));
  }
  stream.once('close', () => lease.release());
  const ended = watchEndOfStream(stream);
  return new Promise<H2Answer>((resolve, reject) => {
    const exchange = new StreamExchange(stream, { cancel, ended }, lease, request, resolve, reject);
    if (body !== undefined) exchange.sendBody(body);
  });
}

/** A request that never became a stream: on a session that is closing or gone it was not processed, else it is the caller's. */
function unsent(error: unknown, lease: SessionLease, request: H2Request): Error {
  if (request.signal.aborted) return request.signal.reason as Error;
  const code = (error as NodeJS.ErrnoException).code;
  if (
    code === 'ERR_HTTP2_GOAWAY_SESSION' ||
    code === 'ERR_HTTP2_INVALID_SESSION' ||
    code === 'ERR_HTTP2_OUT_OF_STREAMS'
  ) {
    const fate = {
      id: undefined,
      rstCode: undefined,
      lastProcessedStreamId: lease.lastProcessedStreamId ?? 0,
      session: lease.end,
    };
    return streamFailure(error as Error, fate, request.url, request.attempts);
  }
  return new UploadError('ERR_INVALID_HEADER', `cannot send these headers over HTTP/2: ${(error as Error).message}`, {
    url: request.url.href,
    cause: error,
  });
}

function requestHeaders({ url, method, headers }: H2Request): OutgoingHttpHeaders {
  // No prototype: a header named __proto__ is a header like any other (node:http sends it too).
  const out: OutgoingHttpHeaders = Object.assign(Object.create(null) as OutgoingHttpHeaders, {
    ':method': method,
    ':scheme': url.protocol.slice(0, -1),
    ':authority': url.host,
    ':path': `${url.pathname}${url.search}`,
  });
  for (const [name, value] of headers) {
    if (CONNECTION_HEADERS.has(name)) continue;
    if (name === 'host') out[':authority'] = value;
    else if (name !== 'te' || value.trim().toLowerCase() === 'trailers') out[name] = value;
  }
  return out;
}

/** The life of one stream up to its final answer. */
class StreamExchange {
  readonly #stream: ClientHttp2Stream;
  readonly #cancel: AbortController;
  readonly #ended: () => boolean;
  readonly #lease: SessionLease;
  readonly #request: H2Request;
  readonly #resolve: (answer: H2Answer) => void;
  readonly #reject: (error: unknown) => void;
  #response: (IncomingHttpHeaders & IncomingHttpStatusHeader) | undefined;
  #failure: Error | undefined;
  /** Wakes the body loop when an answer or a failure arrives while it waits. */
  #wake: () => void = () => {};
  /** Settles once the body loop has let go of its source. */
  #sending: Promise<boolean> = Promise.resolve(true);

  constructor(
    stream: ClientHttp2Stream,
    { cancel, ended }: { cancel: AbortController; ended: () => boolean },
    lease: SessionLease,
    request: H2Request,
    resolve: (answer: H2Answer) => void,
    reject: (error: unknown) => void,
  ) {
    this.#stream = stream;
    this.#cancel = cancel;
    this.#ended = ended;
    this.#lease = lease;
    this.#request = request;
    this.#resolve = resolve;
    this.#reject = reject;
    const { signal } = request;
    const onAbort = () => this.#fail(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('error', (error) => this.#fail(error));
    // A reset with NO_ERROR before an answer leaves a stream whose body is unsent neither destroyed
    // nor 'close'd (Node waits for its writes, which will never go): 'aborted' is all it says.
    stream.once('aborted', () => this.#fail(undefined));
    stream.once('close', () => {
      signal.removeEventListener('abort', onAbort);
      this.#fail(undefined);
    });
    stream.once('response', (headers) => this.#answered(headers));
  }

  get #settled(): boolean {
    return this.#response !== undefined || this.#failure !== undefined;
  }

  sendBody(body: EncodedBody): void {
    const request = this.#request;
    this.#sending = writeBody(this.#stream, body, {
      onUploadProgress: request.onUploadProgress,
      maxRate: request.maxRate,
      stopped: () => this.#settled,
      wakeOn: (listen) => this.#wakeOn(listen),
      fail: (error) => this.#fail(error),
      late: (error) => this.#late(error),
      onEnded: () => this.#bodySent(),
      ...(request.clock === undefined ? {} : { clock: request.clock }),
    }).catch((error: Error) => {
      // The body itself failed (a file changed size, say): the server must see the request cut short.
      this.#fail(error);
      return false;
    });
  }

  #bodySent(): void {
    const { onBodySent } = this.#request;
    if (this.#failure !== undefined || onBodySent === undefined) return;
    const failed = (cause: unknown) => callbackError('onBodySent', cause);
    try {
      watchRejection(onBodySent(), (cause) => this.#late(failed(cause)));
    } catch (cause) {
      this.#fail(failed(cause));
    }
  }

  /** An `async` callback's rejection: the stream's failure while it runs, the upload's after. */
  #late(error: UploadError): void {
    if (this.#settled) this.#request.onLateFailure?.(error);
    else this.#fail(error);
  }

  #wakeOn(listen: (wake: () => void) => () => void): Promise<void> {
    if (this.#settled) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = () => {
        unlisten();
        this.#wake = () => {};
        resolve();
      };
      const unlisten = listen(wake);
      this.#wake = wake;
    });
  }

  /** Settles once the body loop has let go of the source, or after a grace for a source that never yields again. */
  #afterBody(settle: (bodySent: boolean) => void): void {
    void Promise.race([this.#sending, delay(BODY_RELEASE_GRACE_MS, false)]).then(settle);
  }

  #answered(headers: IncomingHttpHeaders & IncomingHttpStatusHeader): void {
    if (this.#settled) return;
    this.#response = headers;
    this.#wake();
    const stream = this.#stream;
    this.#afterBody((bodySent) => {
      const { ':status': status, ...rest } = headers;
      for (const name of Object.keys(rest)) if (name.startsWith(':')) delete rest[name];
      this.#resolve({
        status: Number(status),
        headers: rest,
        stream,
        bodySent,
        ended: this.#ended,
        close: () => {
          if (stream.destroyed || stream.closed) return;
          if (stream.readableEnded) stream.destroy();
          else this.#cancel.abort();
        },
        cancel: (reason) => this.#cancel.abort(reason),
      });
    });
  }

  /** Fails the attempt (once, and never after an answer): the stream is cancelled, the session kept. */
  #fail(error: Error | undefined): void {
    if (this.#settled) return;
    const { signal } = this.#request;
    const stream = this.#stream;
    const known =
      signal.aborted || error instanceof UploadError || error instanceof MultipartError
        ? this.#typed(error)
        : undefined;
    // Taken now: the stream's code and id may go with it. Judged later (below).
    const fate = { id: stream.id, rstCode: stream.rstCode, sessionDestroyed: this.#lease.session.destroyed };
    this.#failure = known ?? new Error('failing');
    this.#wake();
    this.#cancel.abort();
    this.#afterBody(() => {
      if (known !== undefined) return this.#reject(known);
      // A session that fails destroys its streams before it emits its own 'error': the stream's failure
      // is judged once that had its turn, so that a protocol error is not taken for the server's reset.
      setImmediate(() => {
        const lease = this.#lease;
        const { url, attempts } = this.#request;
        const judged = { ...fate, lastProcessedStreamId: lease.lastProcessedStreamId, session: lease.end };
        this.#failure = streamFailure(error, judged, url, attempts);
        this.#reject(this.#failure);
      });
    });
  }

  #typed(error: Error | undefined): Error {
    const { signal } = this.#request;
    if (signal.aborted) return signal.reason as Error;
    return this.#request.typed?.(error as UploadError | MultipartError) ?? error!;
  }
}

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(resolve, ms, value).unref());
}
