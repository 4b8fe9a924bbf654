import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import {
  isUploadBody,
  multipartEncode,
  recyclingChunks,
  type EncodedBody,
  type EncodeOptions,
} from '../multipart/encode.js';
import { MultipartError, UploadError, type UploadAttempt } from '../common/errors.js';
import type { ParamsInput } from '../multipart/param.js';
import {
  checkFunction,
  checkInteger,
  checkMilliseconds,
  checkOptionKeys,
  checkString,
  describe,
  TOKEN,
  uploadOptionError as fail,
} from '../common/validate.js';
import { onAbort } from './abort.js';
import { boundaryOf } from '../common/media-type.js';
import { loadWebClasses, toWebResponse } from './response.js';
import { SliceWriter } from './slices.js';
import { failureReason, parseRetryAfter, retryPolicy, type RetryOptions, type RetryPolicy } from './retry.js';

export type { RetryOptions } from './retry.js';
export type { UploadAttempt } from '../common/errors.js';

/** TLS settings for HTTPS uploads (a CA to trust, a client certificate...). */
export type TlsOptions = Pick<
  RequestOptions,
  'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername' | 'minVersion'
>;

/** Encoding options (`boundary`, `blockSize`, `spool`) apply when `params` is not encoded yet (an error with an encoded body). */
export interface UploadOptions extends Pick<EncodeOptions, 'boundary' | 'blockSize' | 'spool'> {
  /** POST (default), PUT, PATCH or any other method with a body. */
  method?: string;
  /** Extra request headers. Content-Type and Content-Length come from the body. */
  headers?: Record<string, string> | Headers | Iterable<readonly [string, string]>;
  /** Redirects followed at most (default 5). 0 returns a redirect response as it is. */
  maxRedirects?: number;
  /**
   * `Expect: 100-continue`: true always, false never, or a number: only for bodies
   * larger than that many bytes (and for bodies of unknown size). Default 1 MiB, like curl.
   */
  expectContinue?: boolean | number;
  /** How long to wait for `100 Continue` before sending the body anyway (default 1000 ms, like curl). */
  expectTimeout?: number;
  /** Aborts the upload: the socket is destroyed, files closed, and the promise rejects with ERR_ABORTED. */
  signal?: AbortSignal;
  /** Milliseconds for the whole exchange, response body included; then as an abort, with ERR_TIMEOUT. */
  timeout?: number;
  /**
   * Bytes of this request's body handed to the kernel's socket buffer (not bytes the
   * server has), and the total (undefined if unknown). Called at least every 64 KiB;
   * restarts at 0 when the body is sent again (a 307/308, a retry).
   */
  onUploadProgress?: (loaded: number, total: number | undefined) => void;
  /**
   * Called once the whole body (of each attempt) has been handed to the kernel: from
   * then on the upload only waits for the answer.
   */
  onBodySent?: () => void;
  /**
   * Retries on connection failures and on 408/429/5xx answers, for idempotent methods
   * (a number is `{ limit }`; 0 turns them off). Absent: got's defaults, for bodies that can
   * be sent again only. See RetryOptions.
   */
  retry?: number | RetryOptions;
  /** An agent to reuse connections (http.Agent or https.Agent). */
  agent?: Agent;
  tls?: TlsOptions;
}

/** A request's own buffer (Node's default highWaterMark): the body loop reads on while no more than this waits to be sent. */
const REQUEST_BUFFER_BYTES = 16 * 1024;
const DEFAULT_EXPECT_THRESHOLD = 1024 * 1024;
const BODY_RELEASE_GRACE_MS = 250;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const ORIGIN_CREDENTIALS = ['authorization', 'cookie', 'proxy-authorization'];
const BODY_HEADERS = ['content-type', 'content-length', 'transfer-encoding', 'expect'];

/**
 * Uploads a form (anything `multipartEncode` takes) or an encoded body
 * (`multipartEncode`'s or `rawBody`'s result) and resolves to the final WHATWG
 * Response. Sends an exact Content-Length, follows redirects as browsers do
 * (307/308 re-send the same bytes), stops sending when the server answers early,
 * and closes every file and socket on abort or failure.
 */
export function upload(
  url: string | URL,
  params: ParamsInput | EncodedBody,
  options?: UploadOptions,
): Promise<Response>;
/** A FormData of multipart-poster/form-data, with its boundary and exact length. */
export function upload(url: string | URL, form: SelfEncodingForm, options?: UploadOptions): Promise<Response>;
export async function upload(
  url: string | URL,
  params: ParamsInput | EncodedBody | SelfEncodingForm,
  options: UploadOptions = {},
): Promise<Response> {
  checkUploadOptions(options);
  const policy = retryPolicy(options.retry);
  await loadWebClasses();
  const input = isSelfEncoding(params)
    ? (params as unknown as Record<symbol, () => EncodedBody>)[ENCODED_BODY]!()
    : params;
  const given = isEncodedBody(input);
  if (given && (options.spool !== undefined || options.boundary !== undefined || options.blockSize !== undefined)) {
    throw fail(
      'boundary, blockSize and spool encode params; this body is encoded already (give them to multipartEncode or rawBody)',
    );
  }
  const target = parseUrl(url);
  // The exchange (its timeout and the caller's signal) starts first: spooling a stream is part of the upload.
  const exchange = new Exchange(options, policy);
  let encoded: EncodedBody | undefined;
  try {
    encoded = given
      ? input
      : await multipartEncode(input, {
          ...(options.boundary === undefined ? {} : { boundary: options.boundary }),
          ...(options.blockSize === undefined ? {} : { blockSize: options.blockSize }),
          ...(options.spool === undefined ? {} : { spool: options.spool, signal: exchange.signal }),
        });
    return await exchange.run(target, encoded);
  } catch (error) {
    exchange.finish();
    throw error;
  } finally {
    // A body made here is done with once the exchange is: its spool files go.
    if (!given) await encoded?.dispose();
  }
}

/** A form that encodes itself (multipart-poster/form-data's FormData), recognised by a key both builds share. */
const ENCODED_BODY = Symbol.for('multipart-poster.encodedBody');
/** multipart-poster/form-data's FormData, as upload() takes it. */
export interface SelfEncodingForm {
  getBoundary(): string;
  getLengthSync(): number;
}

function isSelfEncoding(value: unknown): value is SelfEncodingForm {
  if (typeof value !== 'object' || value === null) return false;
  if (typeof (value as Record<symbol, unknown>)[ENCODED_BODY] === 'function') return true;
  if (typeof (value as Partial<SelfEncodingForm>).getBoundary === 'function') {
    throw new MultipartError(
      'ERR_INVALID_PARAMS',
      "a FormData of the form-data package: make it with multipart-poster/form-data's, or give the fields",
    );
  }
  return false;
}

export function isEncodedBody(value: unknown): value is EncodedBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    isUploadBody((value as EncodedBody).body) &&
    typeof (value as EncodedBody).headers === 'object'
  );
}

function parseUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new UploadError('ERR_INVALID_URL', `invalid URL ${JSON.stringify(String(url))}`, { cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UploadError('ERR_INVALID_URL', `only http: and https: URLs can be uploaded to, not ${parsed.protocol}`, {
      url: parsed.href,
    });
  }
  return parsed;
}

/** What one request brought back: a final answer, and whether the whole body went out before it. */
interface Sent {
  res: IncomingMessage;
  req: ClientRequest;
  bodySent: boolean;
}

/** A retried answer whose body is at most this long is read to its end, so its connection can be reused; a longer one is dropped. */
const DRAIN_LIMIT = 64 * 1024;

/** One upload: its redirects and retries, its abort and timeout, and cleaning up after them. */
class Exchange {
  readonly #options: UploadOptions;
  readonly #policy: RetryPolicy;
  /** Attempts that failed and were retried; shared (live) with the errors this exchange raises. */
  readonly #attempts: UploadAttempt[] = [];
  readonly #started = Date.now();
  readonly #deadline: number;
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #onUserAbort: () => void;
  readonly #unsubscribe: () => void = () => {};
  /** Set once a redirect leaves the first origin: the TLS client certificate stays behind, like Authorization. */
  #crossOrigin = false;
  #current: ClientRequest | undefined;

  constructor(options: UploadOptions, policy: RetryPolicy) {
    this.#options = options;
    this.#policy = policy;
    const { signal, timeout } = options;
    this.#deadline = timeout === undefined ? Infinity : this.#started + timeout;
    const attempts = this.#attempts;
    this.#onUserAbort = () =>
      this.#abort(new UploadError('ERR_ABORTED', 'the upload was aborted', { cause: signal?.reason, attempts }));
    if (signal?.aborted) this.#onUserAbort();
    else if (signal !== undefined) this.#unsubscribe = onAbort(signal, this.#onUserAbort);
    if (timeout !== undefined) {
      this.#timer = setTimeout(
        () => this.#abort(new UploadError('ERR_TIMEOUT', `the upload took longer than ${timeout} ms`, { attempts })),
        timeout,
      );
      this.#timer.unref();
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  #abort(reason: UploadError): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(reason);
    this.#current?.destroy(reason);
  }

  /** Releases the timer and the caller's signal; runs once the exchange is over. */
  finish(): void {
    clearTimeout(this.#timer);
    this.#unsubscribe();
  }

  async run(start: URL, encoded: EncodedBody): Promise<Response> {
    const maxRedirects = this.#options.maxRedirects ?? 5;
    let url = start;
    let method = (this.#options.method ?? 'POST').toUpperCase();
    const headers = baseHeaders(this.#options.headers);
    const contentType = callerContentType(headers, encoded);
    let body: EncodedBody | undefined = encoded;
    for (let hop = 0; ; hop++) {
      const { res, req, bodySent } = await this.#sendWithRetries(url, method, headers, body, contentType);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status < 200) {
        // Node hands on only final answers and upgrades; any other 1xx that gets here is not one we can use.
        res.destroy();
        req.destroy();
        throw new UploadError('ERR_UNEXPECTED_RESPONSE', `the server answered ${status}, not a final response`, {
          url: url.href,
        });
      }
      if (!REDIRECTS.has(status) || location === undefined || maxRedirects === 0) {
        return this.#respond(res, req, bodySent, url, hop > 0, method);
      }
      res.resume();
      if (!bodySent) req.destroy();
      if (hop >= maxRedirects) {
        throw new UploadError(
          'ERR_TOO_MANY_REDIRECTS',
          `more than ${maxRedirects} redirects, the last to ${location}`,
          { url: url.href },
        );
      }
      const next = parseUrl(resolveLocation(location, url));
      if (next.origin !== start.origin) this.#crossOrigin = true;
      if (next.origin !== url.origin) for (const name of ORIGIN_CREDENTIALS) headers.delete(name);
      if (status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST') {
        method = 'GET';
        body = undefined;
      }
      if (body !== undefined && !body.body.replayable) {
        throw new UploadError(
          'ERR_BODY_NOT_REPLAYABLE',
          `the server redirected (${status}) to ${next.href}, but the body holds a stream that was already sent; use files, Blobs or bytes`,
          { url: url.href },
        );
      }
      url = next;
    }
  }

  #respond(
    res: IncomingMessage,
    req: ClientRequest,
    bodySent: boolean,
    url: URL,
    redirected: boolean,
    method: string,
  ): Response {
    const done = () => {
      // A request whose body was cut short leaves its connection unusable.
      if (!bodySent) req.destroy();
      this.finish();
    };
    this.#controller.signal.addEventListener('abort', () => res.destroy(this.#controller.signal.reason as Error), {
      once: true,
    });
    try {
      return toWebResponse(res, url.href, redirected, method, done);
    } catch (cause) {
      req.destroy();
      throw new UploadError('ERR_UNEXPECTED_RESPONSE', `cannot represent the response (status ${res.statusCode})`, {
        url: url.href,
        cause,
      });
    }
  }

  /**
   * One request, sent again while it fails in a way the retry policy names and
   * there are retries and time left. Resolves to the answer that is kept (a success,
   * any status not retried, or the last one); rejects with the last failure.
   */
  async #sendWithRetries(
    url: URL,
    method: string,
    headers: Headers,
    body: EncodedBody | undefined,
    contentType: string | undefined,
  ): Promise<Sent> {
    const policy = this.#policy;
    for (let attempt = 1; ; attempt++) {
      let sent: Sent | undefined;
      let failure: unknown;
      try {
        sent = await this.#send(url, method, headers, body, contentType);
      } catch (error) {
        failure = error;
      }
      const mayRetry = attempt <= policy.limit && policy.methods.has(method) && !this.signal.aborted;
      let reason: number | string;
      let wait: number;
      if (sent === undefined) {
        const code = failureReason(failure);
        if (!mayRetry || code === undefined || (policy.errorCodes !== 'any' && !policy.errorCodes.has(code)))
          throw failure;
        reason = code;
        wait = policy.backoff(attempt);
      } else {
        const status = sent.res.statusCode ?? 0;
        if (!mayRetry || !policy.statusCodes.has(status)) return sent;
        const retryAfter = parseRetryAfter(sent.res.headers['retry-after']);
        if (retryAfter !== undefined && retryAfter > policy.maxRetryAfter) return sent;
        reason = status;
        try {
          wait = retryAfter ?? policy.backoff(attempt);
        } catch (error) {
          discard(sent); // a backoff function that throws must not leave the answer's connection open
          throw error;
        }
      }
      // A retry that could not start before the deadline is not worth waiting for: the answer (or failure) we have is final.
      const resumeAt = Date.now() + wait;
      if (
        resumeAt >= this.#deadline ||
        (policy.maxRetryTime !== undefined && resumeAt - this.#started > policy.maxRetryTime)
      ) {
        if (sent !== undefined) return sent;
        throw failure;
      }
      const replayable = body === undefined || body.body.replayable;
      if (!replayable && !policy.explicit) {
        // Retries by default go only where they can: this answer (or failure) is final, as without them.
        if (sent !== undefined) return sent;
        throw failure;
      }
      if (sent !== undefined) discard(sent);
      const error = failure as UploadError | undefined;
      const info: UploadAttempt = { attempt, reason, status: sent?.res.statusCode, error, delay: wait, url: url.href };
      if (!replayable) {
        throw new UploadError(
          'ERR_BODY_NOT_REPLAYABLE',
          `attempt ${attempt} failed (${sent === undefined ? (error?.message ?? reason) : `the server answered ${reason}`}) and would be retried, but the body holds a one-shot stream that was already read; use files, Blobs or bytes to make it replayable`,
          { url: url.href, cause: failure, attempts: this.#attempts },
        );
      }
      try {
        policy.onRetry?.(info);
      } catch (cause) {
        throw new UploadError(
          'ERR_CALLBACK_FAILED',
          `retry.onRetry threw: ${cause instanceof Error ? cause.message : String(cause)}`,
          { url: url.href, cause, attempts: this.#attempts },
        );
      }
      this.#attempts.push(info);
      await this.#wait(wait);
    }
  }

  /** Waits `ms`, or rejects with the abort (or timeout) that cuts the wait short. */
  #wait(ms: number): Promise<void> {
    const signal = this.signal;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** One request; resolves once a final response has arrived, whether or not the body was all sent. */
  async #send(
    url: URL,
    method: string,
    userHeaders: Headers,
    encoded: EncodedBody | undefined,
    contentType: string | undefined,
  ): Promise<Sent> {
    this.signal.throwIfAborted();
    // Loaded on first use: code that only encodes never pays for http, https and tls.
    const transport = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
    this.signal.throwIfAborted();
    const headers = new Headers(userHeaders);
    for (const name of BODY_HEADERS) headers.delete(name);
    const expectContinue = encoded !== undefined && this.#wantsContinue(encoded.contentLength);
    if (encoded !== undefined) {
      for (const [name, value] of Object.entries(encoded.headers)) headers.set(name, value);
      if (contentType !== undefined) headers.set('content-type', contentType);
    }
    const req = transport.request(url, {
      method,
      headers: Object.fromEntries(headers),
      ...(this.#options.agent === undefined ? {} : { agent: this.#options.agent }),
      ...(this.#crossOrigin ? withoutClientCertificate(this.#options.tls) : this.#options.tls),
    });
    // Set once the agent has the request, never through the constructor: with Expect among its
    // headers, Node queues the head each time it is built, and http-proxy-agent builds it again
    // (absolute-form) in addRequest and once connected: the proxy got the head three times.
    if (expectContinue) req.setHeader('expect', '100-continue');
    this.#current = req;
    return new Promise<Sent>((resolve, reject) => {
      const state: SendState = { response: undefined, failure: undefined, wake: () => {} };
      // Settles only once the body loop has let go of its source (files closed), or
      // after a short grace for a caller's stream that never yields again.
      let sending: Promise<boolean> = Promise.resolve(true);
      const afterBody = (settle: (bodySent: boolean) => void) =>
        void Promise.race([sending, delay(BODY_RELEASE_GRACE_MS, false)]).then(settle);
      const fail = (error: Error) => {
        if (settled(state)) return; // after the answer, a reset changes nothing
        state.failure = this.signal.aborted ? (this.signal.reason as Error) : requestFailed(error, url, this.#attempts);
        state.wake();
        req.destroy();
        afterBody(() => reject(state.failure));
      };
      req.on('error', fail);
      // A socket that closes without an answer, an upgrade nobody asked for (101) and
      // an abort must each settle the request: none of them is an 'error' on every path.
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        fail(
          new UploadError(
            'ERR_UNEXPECTED_RESPONSE',
            `the server answered ${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd() +
              ', switching protocols though none was asked for',
            { url: url.href },
          ),
        );
      });
      const onAbort = () => fail(this.signal.reason as Error);
      this.signal.addEventListener('abort', onAbort, { once: true });
      req.once('close', () => {
        this.signal.removeEventListener('abort', onAbort);
        fail(
          new UploadError('ERR_REQUEST_FAILED', `the connection to ${url.host} closed before an answer`, {
            url: url.href,
            attempts: this.#attempts,
          }),
        );
      });
      req.on('response', (res) => {
        if (state.failure !== undefined) return res.destroy();
        state.response = res;
        state.wake();
        afterBody((bodySent) => resolve({ res, req, bodySent }));
      });
      if (encoded === undefined) {
        req.end();
        return;
      }
      sending = this.#sendBody(req, encoded, expectContinue, state).catch((error: Error) => {
        // The body itself failed (a file changed size, say): the server must see an aborted request.
        if (state.response === undefined && state.failure === undefined) {
          state.failure = error;
          req.destroy(error);
          reject(error);
        }
        return false;
      });
    });
  }

  #wantsContinue(length: number | undefined): boolean {
    const setting = this.#options.expectContinue ?? DEFAULT_EXPECT_THRESHOLD;
    if (typeof setting === 'boolean') return setting;
    return length === undefined || length > setting;
  }

  /** Streams the body with back-pressure; true when all of it went out, false when an answer came first. */
  async #sendBody(
    req: ClientRequest,
    encoded: EncodedBody,
    expectContinue: boolean,
    state: SendState,
  ): Promise<boolean> {
    if (expectContinue) {
      // The head goes out once the agent has given the request a socket: a proxy agent has built
      // (and, with Expect, queued) it by then; with other agents nothing has, and it is flushed here.
      const flush = () => {
        if (!req.headersSent) req.flushHeaders();
      };
      if (req.socket) flush();
      else req.once('socket', flush);
      const expectTimeout = this.#options.expectTimeout ?? 1000;
      await wakeOn(state, (wake) => {
        req.once('continue', wake);
        const timer = setTimeout(wake, expectTimeout);
        return () => {
          req.off('continue', wake);
          clearTimeout(timer);
        };
      });
      if (settled(state)) return false;
    }
    const total = encoded.contentLength;
    const onProgress = this.#options.onUploadProgress;
    let loaded = 0;
    let sent = 0;
    const sizeMismatch = (what: string) =>
      new UploadError('ERR_SIZE_MISMATCH', `the body produced ${what}; nothing past it was sent`);
    const { chunks, recycle } = recyclingChunks(encoded.body);
    let failed = false;
    const writer = new SliceWriter(req, {
      onWritten: (bytes) => {
        loaded += bytes;
        try {
          onProgress?.(loaded, total);
        } catch (cause) {
          failed = true;
          req.destroy(new UploadError('ERR_CALLBACK_FAILED', `onUploadProgress threw: ${String(cause)}`, { cause }));
        }
      },
      onBlockDone: recycle,
      stopped: () => failed || settled(state),
      fine: onProgress !== undefined,
    });
    // Waits until at most `limit` bytes are still on their way to the kernel; false if the request stopped meanwhile.
    const drained = async (limit: number) => {
      await wakeOn(state, (wake) => {
        void writer.whenPendingAtMost(limit).then(wake);
        return () => writer.wake();
      });
      return !(failed || settled(state));
    };
    try {
      for (;;) {
        const { value, done } = await chunks.next();
        if (settled(state)) return false;
        if (done) break;
        const size = value.length;
        if (total !== undefined && sent + size > total)
          throw sizeMismatch(`more than the ${total} bytes declared in Content-Length`);
        sent += size;
        writer.push(value);
        // As a plain write and 'drain' would: small chunks go on at once, a block once the kernel has (nearly) taken it.
        if (writer.pending > REQUEST_BUFFER_BYTES && !(await drained(REQUEST_BUFFER_BYTES))) return false;
      }
    } finally {
      await chunks.return?.();
    }
    if (total !== undefined && sent !== total)
      throw sizeMismatch(`${sent} bytes, not the ${total} declared in Content-Length`);
    if (!(await drained(0))) return false;
    req.end(() => {
      if (failed || settled(state)) return;
      try {
        this.#options.onBodySent?.();
      } catch (cause) {
        req.destroy(new UploadError('ERR_CALLBACK_FAILED', `onBodySent threw: ${String(cause)}`, { cause }));
      }
    });
    return true;
  }
}

interface SendState {
  response: IncomingMessage | undefined;
  failure: Error | undefined;
  /** Wakes the body loop when an answer or a failure arrives while it waits. */
  wake: () => void;
}

/** True once the request has an answer or has failed: the body loop then stops sending. */
function settled(state: SendState): boolean {
  return state.response !== undefined || state.failure !== undefined;
}

/** Waits for the event `listen` subscribes to, or for an answer or failure on the request. */
function wakeOn(state: SendState, listen: (wake: () => void) => () => void): Promise<void> {
  if (settled(state)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const wake = () => {
      unlisten();
      state.wake = () => {};
      resolve();
    };
    const unlisten = listen(wake);
    state.wake = wake;
  });
}

/** Lets go of an answer that is retried: a short body is read to its end (the connection stays reusable), a longer one is dropped. */
function discard({ res, req, bodySent }: Sent): void {
  res.on('error', () => {});
  if (!bodySent) req.destroy();
  const length = Number(res.headers['content-length']);
  if (!(bodySent && Number.isSafeInteger(length) && length <= DRAIN_LIMIT)) return void res.destroy();
  // A short answer is read to its end, but never waited for long: one that stalls is dropped with its connection.
  const timer = setTimeout(() => res.destroy(), DRAIN_TIMEOUT_MS);
  timer.unref();
  res.once('close', () => clearTimeout(timer));
  res.resume();
}

/** How long the rest of a retried answer is waited for before its connection is dropped. */
const DRAIN_TIMEOUT_MS = 1000;

function resolveLocation(location: string, base: URL): URL | string {
  try {
    return new URL(location, base);
  } catch {
    return location; // parseUrl reports it as ERR_INVALID_URL
  }
}

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(resolve, ms, value).unref());
}

function baseHeaders(headers: UploadOptions['headers']): Headers {
  try {
    return new Headers(headers as ConstructorParameters<typeof Headers>[0]);
  } catch (cause) {
    throw new UploadError(
      'ERR_INVALID_HEADER',
      `invalid headers: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

const UPLOAD_OPTIONS = [
  'method',
  'headers',
  'maxRedirects',
  'expectContinue',
  'expectTimeout',
  'signal',
  'timeout',
  'onUploadProgress',
  'onBodySent',
  'retry',
  'agent',
  'tls',
  'boundary',
  'blockSize',
  'spool',
];
const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'minVersion'];

/** Every option checked up front: an unknown or misspelled one is an error naming it, never ignored. */
function checkUploadOptions(options: UploadOptions): void {
  checkOptionKeys(options, UPLOAD_OPTIONS, fail);
  const { method, maxRedirects, expectContinue, signal, agent, tls } = options;
  if (checkString(method, 'method', fail) !== undefined && !TOKEN.test(method!))
    throw fail(`method must be an HTTP token, not ${describe(method)}`);
  checkInteger(maxRedirects, 'maxRedirects', fail);
  if (typeof expectContinue !== 'boolean')
    checkInteger(expectContinue, 'expectContinue (true, false or a byte count)', fail);
  checkMilliseconds(options.expectTimeout, 'expectTimeout', fail, 0);
  checkMilliseconds(options.timeout, 'timeout', fail);
  checkFunction(options.onUploadProgress, 'onUploadProgress', fail);
  checkFunction(options.onBodySent, 'onBodySent', fail);
  if (
    signal !== undefined &&
    !(
      typeof signal === 'object' &&
      signal !== null &&
      typeof signal.aborted === 'boolean' &&
      typeof signal.addEventListener === 'function'
    )
  ) {
    throw fail(`signal must be an AbortSignal, not ${describe(signal)}`);
  }
  if (
    agent !== undefined &&
    !(
      typeof agent === 'object' &&
      agent !== null &&
      typeof (agent as { addRequest?: unknown }).addRequest === 'function'
    )
  ) {
    throw fail(`agent must be an http.Agent or https.Agent, not ${describe(agent)}`);
  }
  checkOptionKeys(tls, TLS_OPTIONS, fail, 'tls');
}

/**
 * The caller's Content-Type, checked against the body: for a raw body it wins over
 * the guess; for a multipart body it must carry the body's own boundary.
 */
function callerContentType(headers: Headers, encoded: EncodedBody): string | undefined {
  for (const name of ['content-length', 'transfer-encoding', 'expect']) {
    const value = headers.get(name);
    if (value === null) continue;
    if (name === 'content-length' && value === String(encoded.contentLength)) continue;
    const why = name === 'expect' ? 'use the expectContinue option' : "upload() sends the body's exact length itself";
    throw new UploadError('ERR_INVALID_HEADER', `header ${name}: ${JSON.stringify(value)} cannot be set here: ${why}`);
  }
  const type = headers.get('content-type');
  if (type === null) return undefined;
  const boundary = (encoded as { boundary?: unknown }).boundary;
  if (typeof boundary !== 'string') return type;
  if (!/^multipart\//i.test(type) || boundaryOf(type) !== boundary) {
    throw new UploadError(
      'ERR_INVALID_HEADER',
      `content-type ${JSON.stringify(type)} does not carry the body's boundary ${JSON.stringify(boundary)}; leave it out and the body's own is sent`,
    );
  }
  return type;
}

function withoutClientCertificate(tls: TlsOptions | undefined): TlsOptions | undefined {
  if (tls === undefined) return undefined;
  const { cert: _cert, key: _key, pfx: _pfx, passphrase: _passphrase, ...rest } = tls;
  return rest;
}

function requestFailed(error: Error, url: URL, attempts: readonly UploadAttempt[]): Error {
  if (error instanceof UploadError || error instanceof MultipartError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  return new UploadError('ERR_REQUEST_FAILED', `request to ${url.href} failed: ${code ?? error.message}`, {
    url: url.href,
    cause: error,
    attempts,
  });
}
