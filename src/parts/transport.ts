import { crypto, lazily } from '../common/lazy.js';
import { rawBody, type EncodedBody } from '../multipart/encode.js';
import { DEFAULT_LIMIT, DEFAULT_RETRY_METHODS, type RetryOptions } from '../http/retry.js';
import { uploadPlain, type UploadOptions } from '../http/upload.js';
import type { PlainAnswer } from '../http/plain-answer.js';
import type { ControlRequest, ControlResponse, DigestAlgorithm, PieceRequest, PieceResponse } from './protocol.js';
import type { Source } from './source.js';
import { pieceBody } from './tap.js';
import type { BlockPool } from '../multipart/sources.js';

const zlib = lazily<typeof import('node:zlib')>('node:zlib');

/** How much of a piece's or a control request's answer is kept (an error message, an XML document). */
const ANSWER_LIMIT = 64 * 1024;
const NO_BODY_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

/** The options of uploadParts that each request passes on to upload(). */
export interface RequestSettings {
  retry: number | RetryOptions | undefined;
  timeout: number | undefined;
  agent: UploadOptions['agent'];
  tls: UploadOptions['tls'];
  http2: UploadOptions['http2'];
}

/**
 * Every request of an upload in pieces goes through upload() (uploadPlain: no Response is made): its
 * retries, redirects, agent, TLS and timeout.
 */
export class Transport {
  readonly #settings: RequestSettings;
  readonly #source: Source;
  readonly #signal: AbortSignal;
  /** Each request's maxRate: the caller's limit shared among the pieces in flight (undefined: none). */
  readonly #rate: () => number | undefined;
  /** The file blocks every piece of the upload reads into. */
  readonly #pool: BlockPool;

  constructor(
    settings: RequestSettings,
    source: Source,
    signal: AbortSignal,
    shared: { rate: () => number | undefined; pool: BlockPool },
  ) {
    this.#settings = settings;
    this.#source = source;
    this.#signal = signal;
    this.#rate = shared.rate;
    this.#pool = shared.pool;
  }

  #options(method: string, headers: Record<string, string> | undefined, retry: UploadOptions['retry']): UploadOptions {
    const { timeout, agent, tls, http2 } = this.#settings;
    const maxRate = this.#rate();
    return {
      method,
      signal: this.#signal,
      ...(headers === undefined ? {} : { headers }),
      ...(retry === undefined ? {} : { retry }),
      ...(timeout === undefined ? {} : { timeout }),
      ...(agent === undefined ? {} : { agent }),
      ...(tls === undefined ? {} : { tls }),
      ...(http2 === undefined ? {} : { http2 }),
      ...(maxRate === undefined ? {} : { maxRate }),
    };
  }

  /** A request of the protocol's own; its answer read whole, up to `limit` bytes. */
  async request(request: ControlRequest): Promise<ControlResponse> {
    const method = request.method.toUpperCase();
    const bytes = request.body === undefined ? new Uint8Array(0) : Buffer.from(request.body);
    const encoded = withoutBodyHeaders(await rawBody(bytes), bytes.length > 0 || !NO_BODY_METHODS.has(method));
    let retries = 0;
    const retry =
      request.retry === false
        ? 0
        : request.repeatable
          ? repeatable(this.#settings.retry, () => retries++, request.retriesBefore ?? 0)
          : this.#settings.retry;
    const options = this.#options(method, request.headers, retry);
    if (request.redirects === false) options.maxRedirects = 0;
    const answer = await uploadPlain(request.url, encoded, options);
    return { ...(await answerOf(answer, request.limit ?? ANSWER_LIMIT)), retries };
  }

  /** A piece of the source as a request body; `onSent(bytes)` follows it out. */
  async send(piece: PieceRequest, onSent: (bytes: number) => void): Promise<PieceResponse> {
    const length = piece.end - piece.start;
    const encoded = await this.#source.body(piece.start, piece.end);
    let md5: Buffer | undefined;
    const body = !piece.md5
      ? pieceBody(encoded, this.#pool)
      : pieceBody(encoded, this.#pool, () => {
          const hash = crypto().createHash('md5');
          let seen = 0;
          // Set once every byte of this pass went by (an empty piece has none to wait for).
          md5 = length === 0 ? hash.digest() : undefined;
          return (chunk) => {
            hash.update(chunk);
            seen += chunk.length;
            if (seen === length) md5 = hash.digest();
          };
        });
    const options = this.#options(piece.method, piece.headers, piece.retry ? this.#settings.retry : 0);
    options.onUploadProgress = (loaded) => onSent(loaded);
    if (piece.expectContinue === false) options.expectContinue = false;
    if (piece.redirects === false) options.maxRedirects = 0;
    const answer = await uploadPlain(piece.url, body, options);
    let read: Omit<ControlResponse, 'retries'>;
    try {
      read = await answerOf(answer, piece.limit ?? ANSWER_LIMIT);
    } catch (error) {
      if (!piece.successBodyUnused || answer.status < 200 || answer.status > 299 || this.#signal.aborted) throw error;
      read = { status: answer.status, headers: answer.headers, text: '', cut: false, url: answer.url };
    }
    return { ...read, retries: 0, md5 };
  }

  /** The digest of bytes `start`..`end`, read once before the piece is sent (its header must carry it). */
  async digest(start: number, end: number, algorithm: DigestAlgorithm): Promise<Buffer> {
    const encoded = await this.#source.body(start, end);
    if (algorithm === 'crc32') {
      let crc = 0;
      for await (const chunk of encoded.body) {
        this.#signal.throwIfAborted();
        crc = zlib().crc32(chunk, crc);
      }
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc >>> 0);
      return out;
    }
    const hash = crypto().createHash(algorithm);
    for await (const chunk of encoded.body) {
      this.#signal.throwIfAborted();
      hash.update(chunk);
    }
    return hash.digest();
  }
}

/**
 * The caller's retry policy, with POST among the methods retried (for a request the protocol says
 * is safe to repeat); `onRetry` counts the retries, since an earlier attempt may have done the work.
 */
function repeatable(
  retry: number | RetryOptions | undefined,
  onRetry: () => void,
  before: number,
): number | RetryOptions {
  const options: RetryOptions = typeof retry === 'number' ? { limit: retry } : { ...retry };
  options.methods = [...(options.methods ?? DEFAULT_RETRY_METHODS), 'POST'];
  options.limit = Math.max(0, (options.limit ?? DEFAULT_LIMIT) - before);
  const callers = options.onRetry;
  options.onRetry = (info) => {
    onRetry();
    // an async onRetry's promise goes on to upload(), which handles its rejection
    return callers?.({ ...info, attempt: info.attempt + before });
  };
  return options;
}

/** An empty body sends no Content-Type, and a Content-Length only where a body is expected (POST, PUT...). */
function withoutBodyHeaders(encoded: EncodedBody, keepLength: boolean): EncodedBody {
  const headers: Record<string, string> = {};
  if (encoded.contentLength !== 0 || keepLength) headers['content-length'] = String(encoded.contentLength);
  return { ...spread(encoded), headers: Object.freeze(headers) };
}

function spread(encoded: EncodedBody): EncodedBody {
  return {
    body: encoded.body,
    headers: encoded.headers,
    contentLength: encoded.contentLength,
    toBlob: () => encoded.toBlob(),
    toReadableStream: () => encoded.toReadableStream(),
    dispose: () => encoded.dispose(),
  };
}

async function answerOf(answer: PlainAnswer, limit: number): Promise<Omit<ControlResponse, 'retries'>> {
  const { text, cut } = await answer.read(limit);
  return { status: answer.status, headers: answer.headers, text, cut, url: answer.url };
}
