import { MultipartError, UploadError, type UploadAttempt } from '../common/errors.js';
import { watchRejection } from '../common/callback.js';
import { wait } from '../common/wait.js';
import { isUploadBody, multipartEncode, type EncodedBody } from '../multipart/encode.js';
import type { ParamsInput } from '../multipart/param.js';
import { agentForHop } from './agent.js';
import type { Answer, AttemptRequest } from './attempt.js';
import { UploadControl } from './control.js';
import { sendOverProtocol } from './h2/protocol.js';
import { callerContentType, ORIGIN_BOUND_HEADERS, requestHeaders } from './headers.js';
import { tlsForHop, uploadSettings, wantsContinue, type UploadOptions, type UploadSettings } from './options.js';
import {
  parseHttpUrl,
  redirectStep,
  withoutCredentials,
  type RedirectQuestion,
  type RedirectStep,
} from './redirect.js';
import { loadWebClasses, webAnswer } from './response.js';
import type { FinalAnswer } from './final-answer.js';
import { HeaderList } from './header-list.js';
import { plainAnswer, type PlainAnswer } from './plain-answer.js';
import { decideRetry, type RetryDecision } from './retry-decision.js';
import { callbackError } from './callback-error.js';

export type { AgentForUrl, TlsOptions, UploadOptions } from './options.js';
export type { RetryOptions } from './retry.js';
export type { UploadAttempt } from '../common/errors.js';

/** upload() itself, loaded on its first call: its documented signatures are in src/http/deferred-upload.ts. */
export async function upload(
  url: string | URL,
  params: ParamsInput | EncodedBody | SelfEncodingForm,
  options: UploadOptions = {},
): Promise<Response> {
  // First, in turns of their own: the Response it answers with loads Node's fetch classes (undici,
  // a block of milliseconds), which would otherwise come on the end of the caller's turn.
  await loadWebClasses();
  return exchange(url, params, options, webAnswer);
}

/**
 * upload() for the library's own requests (uploadParts' pieces and protocol steps): the same
 * request, retries and redirects, answered plain instead of with a Response, so that a process
 * that uploads only in pieces never loads Node's fetch classes (see src/http/header-list.ts).
 */
export function uploadPlain(url: string | URL, body: EncodedBody, options: UploadOptions): Promise<PlainAnswer> {
  return exchange(url, body, options, plainAnswer);
}

/** An upload, its final answer handed on by `answerWith` (which owns it from then on). */
async function exchange<T>(
  url: string | URL,
  params: ParamsInput | EncodedBody | SelfEncodingForm,
  options: UploadOptions,
  answerWith: (final: FinalAnswer, control: UploadControl) => T,
): Promise<T> {
  const settings = uploadSettings(options);
  const input = isSelfEncoding(params)
    ? (params as unknown as Record<symbol, () => EncodedBody>)[ENCODED_BODY]!()
    : params;
  const given = isEncodedBody(input);
  if (given && (options.spool !== undefined || options.boundary !== undefined || options.blockSize !== undefined)) {
    throw new UploadError(
      'ERR_INVALID_OPTION',
      'boundary, blockSize and spool encode params; this body is encoded already (give them to multipartEncode or rawBody)',
    );
  }
  const { url: target, authorization } = withoutCredentials(parseHttpUrl(url));
  // The upload (its timeout and the caller's signal) starts first: spooling a stream is part of it.
  const control = new UploadControl(settings.signal, settings.timeout, target.href);
  let encoded: EncodedBody | undefined;
  try {
    encoded = given ? input : await encode(input, options, control.signal);
    const final = await new Upload(settings, control, { url: target, authorization }, encoded).run();
    return answerWith(final, control);
  } catch (error) {
    control.finish();
    throw error;
  } finally {
    // A body made here is done with once the upload is: its spool files go.
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

function encode(params: ParamsInput, options: UploadOptions, signal: AbortSignal): Promise<EncodedBody> {
  const { boundary, blockSize, spool } = options;
  return multipartEncode(params, {
    ...(boundary === undefined ? {} : { boundary }),
    ...(blockSize === undefined ? {} : { blockSize }),
    ...(spool === undefined ? {} : { spool, signal }),
  });
}

/** Where the next request goes, and with what. */
interface Hop {
  url: URL;
  method: string;
  body: EncodedBody | undefined;
  /** Set once a redirect left the first origin: the TLS client identity stays behind, like Authorization. */
  leftFirstOrigin: boolean;
  /** This hop's server answered 417 to `Expect: 100-continue`: its request goes again without it. */
  expectRefused: boolean;
}

/** One upload: its hops (redirects) and, for each, its attempts (retries). */
class Upload {
  readonly #settings: UploadSettings;
  readonly #control: UploadControl;
  readonly #hop: Hop;
  readonly #headers: HeaderList;
  readonly #contentType: string | undefined;
  readonly #startOrigin: string;

  constructor(
    settings: UploadSettings,
    control: UploadControl,
    { url, authorization }: { url: URL; authorization: string | undefined },
    body: EncodedBody,
  ) {
    this.#settings = settings;
    this.#control = control;
    this.#headers = new HeaderList(settings.headers);
    // The URL's user name and password, as node:http sends them: a header the caller set wins.
    if (authorization !== undefined && !this.#headers.has('authorization'))
      this.#headers.set('authorization', authorization);
    this.#contentType = callerContentType(this.#headers, body);
    this.#hop = { url, method: settings.method, body, leftFirstOrigin: false, expectRefused: false };
    this.#startOrigin = url.origin;
  }

  async run(): Promise<FinalAnswer> {
    const hop = this.#hop;
    for (let count = 0; ; count++) {
      const answer = await this.#send();
      if (this.#control.signal.aborted) {
        // A callback's late failure, come while the answer was on its way here: it is not handed on.
        letGo(answer);
        throw this.#control.signal.reason as Error;
      }
      const status = answer.res.statusCode ?? 0;
      if (status < 200) {
        // Node hands on only final answers and upgrades; any other 1xx that gets here is not one we can use.
        letGo(answer);
        throw new UploadError('ERR_UNEXPECTED_RESPONSE', `the server answered ${status}, not a final response`, {
          url: hop.url.href,
        });
      }
      const step = redirectOrLetGo(answer, {
        status,
        location: answer.res.headers.location,
        url: hop.url,
        method: hop.method,
        hop: count,
        maxRedirects: this.#settings.maxRedirects,
        hasBody: hop.body !== undefined,
        replayable: hop.body?.body.replayable ?? true,
      });
      if (step === undefined) return { answer, url: hop.url.href, method: hop.method, redirected: count > 0 };
      letGo(answer);
      if (step.crossOrigin) for (const name of ORIGIN_BOUND_HEADERS) this.#headers.delete(name);
      hop.leftFirstOrigin ||= step.url.origin !== this.#startOrigin;
      Object.assign(hop, {
        url: step.url,
        method: step.method,
        body: step.keepsBody ? hop.body : undefined,
        expectRefused: false,
      });
      this.#control.url = step.url.href;
    }
  }

  /**
   * The hop's request and its retries; once more without `Expect` when the server refuses the
   * expectation (417), as RFC 9110 §10.1.1 asks of a client and curl does, if the body can be sent
   * again (a one-shot stream's answer is returned as it is).
   */
  async #send(): Promise<Answer> {
    const hop = this.#hop;
    const answer = await this.#sendWithRetries();
    const sentExpect = this.#expects();
    if (answer.res.statusCode !== 417 || !sentExpect || !(hop.body?.body.replayable ?? false)) return answer;
    letGo(answer);
    hop.expectRefused = true;
    return this.#sendWithRetries();
  }

  /** Whether the hop's request carries `Expect: 100-continue`. */
  #expects(): boolean {
    const { body, expectRefused } = this.#hop;
    return body !== undefined && !expectRefused && wantsContinue(this.#settings.expectContinue, body.contentLength);
  }

  /**
   * The hop's request, sent again while it fails in a way the retry policy names and there are
   * retries and time left. Resolves to the answer that is kept (a success, any status not
   * retried, or the last one); rejects with the last failure.
   */
  async #sendWithRetries(): Promise<Answer> {
    const hop = this.#hop;
    const control = this.#control;
    const agent = agentForHop(this.#settings.agent, hop.url);
    for (let attempt = 1; ; attempt++) {
      let answer: Answer | undefined;
      let failure: unknown;
      try {
        answer = await sendOverProtocol(this.#request(agent), this.#settings.http2, control.signal, control.attempts);
      } catch (error) {
        failure = error;
      }
      const decision = this.#decide(attempt, answer, failure);
      if (decision.kind === 'final') {
        if (answer !== undefined) return answer;
        throw failure;
      }
      if (answer !== undefined) letGo(answer);
      const info: UploadAttempt = {
        attempt,
        reason: decision.reason,
        status: answer?.res.statusCode,
        error: failure as UploadError | undefined,
        delay: decision.delay,
        url: hop.url.href,
      };
      if (decision.kind === 'not-replayable') throw notReplayable(info, failure, control.attempts);
      this.#tellRetry(info);
      await wait(decision.delay, { signal: control.signal });
    }
  }

  #request(agent: ReturnType<typeof agentForHop>): AttemptRequest {
    const { url, method, body, leftFirstOrigin } = this.#hop;
    const settings = this.#settings;
    return {
      url,
      method,
      headers: requestHeaders(this.#headers, body, this.#contentType),
      body,
      agent,
      tls: tlsForHop(settings.tls, leftFirstOrigin),
      writer: {
        expectContinue: this.#expects(),
        expectTimeout: settings.expectTimeout,
        onUploadProgress: settings.onUploadProgress,
        onBodySent: settings.onBodySent,
        onLateFailure: this.#control.fail,
        maxRate: settings.maxRate,
      },
    };
  }

  #decide(attempt: number, answer: Answer | undefined, failure: unknown): RetryDecision {
    const control = this.#control;
    const { method, body } = this.#hop;
    try {
      return decideRetry({
        policy: this.#settings.retry,
        attempt,
        method,
        outcome:
          answer === undefined
            ? { failure }
            : {
                status: answer.res.statusCode ?? 0,
                retryAfter: answer.res.headers['retry-after'],
                bodySent: answer.bodySent,
              },
        replayable: body === undefined || body.body.replayable,
        aborted: control.signal.aborted,
        now: Date.now(),
        started: control.started,
        deadline: control.deadline,
      });
    } catch (error) {
      if (answer !== undefined) letGo(answer); // a backoff function that throws must not leave the answer's connection open
      throw error;
    }
  }

  #tellRetry(info: UploadAttempt): void {
    const { onRetry } = this.#settings.retry;
    const failed = (cause: unknown) =>
      callbackError('retry.onRetry', cause, { url: info.url, attempts: this.#control.attempts });
    try {
      // An async onRetry's rejection fails the upload as a throw does, wherever it then is.
      if (onRetry !== undefined) watchRejection(onRetry(info), (cause) => this.#control.fail(failed(cause)));
    } catch (cause) {
      throw failed(cause);
    }
    this.#control.attempts.push(info);
  }
}

/** The redirect to follow, if any; a redirect refused (a loop, a bad Location, a body it cannot re-send) lets go of its answer first. */
function redirectOrLetGo(answer: Answer, question: RedirectQuestion): RedirectStep | undefined {
  try {
    return redirectStep(question);
  } catch (error) {
    letGo(answer);
    throw error;
  }
}

function notReplayable(info: UploadAttempt, failure: unknown, attempts: readonly UploadAttempt[]): UploadError {
  const what = info.status === undefined ? (info.error?.message ?? info.reason) : `the server answered ${info.reason}`;
  return new UploadError(
    'ERR_BODY_NOT_REPLAYABLE',
    `attempt ${info.attempt} failed (${what}) and would be retried, but the body holds a one-shot stream that was already read; use files, Blobs or bytes to make it replayable`,
    { url: info.url, cause: failure, attempts },
  );
}

/** An answer the caller never sees is read at most this far, so its connection can be reused; a longer one is dropped. */
const DRAIN_LIMIT = 64 * 1024;
/** How long the rest of such an answer is waited for before it is dropped with its connection. */
const DRAIN_TIMEOUT_MS = 1000;

/**
 * Lets go of an answer the caller never sees (a redirect, a 1xx, a retried one): the one way,
 * bounded in bytes and in time, since it outlives the upload (whose timeout no longer runs). A
 * short body is read to its end, so its connection stays reusable; a body that declares more than
 * DRAIN_LIMIT, goes on past it (a chunked or lying one) or stalls is dropped with its connection
 * (over HTTP/2, its stream alone).
 */
function letGo({ res, req, bodySent }: Answer): void {
  res.on('error', () => {});
  if (!bodySent) req.destroy();
  const length = Number(res.headers['content-length'] ?? 0);
  if (!bodySent || !(Number.isSafeInteger(length) && length <= DRAIN_LIMIT)) return void res.destroy();
  const timer = setTimeout(() => res.destroy(), DRAIN_TIMEOUT_MS);
  timer.unref();
  const done = () => clearTimeout(timer);
  res.once('end', done);
  res.once('close', done);
  let read = 0;
  res.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > DRAIN_LIMIT) {
      done();
      res.destroy();
    }
  });
}
