import type { Agent } from 'node:http';
import type { RequestOptions } from 'node:https';
import { UploadError } from '../common/errors.js';
import { messageOf } from '../common/messages.js';
import {
  checkByteCount,
  checkFunction,
  checkInteger,
  checkMilliseconds,
  checkOptionKeys,
  checkSignal,
  checkString,
  describe,
  encodeOptionError,
  TOKEN,
  uploadOptionError as fail,
  type OptionRegistry,
} from '../common/validate.js';
import { assertValidBoundary } from '../multipart/boundary.js';
import type { EncodeOptions } from '../multipart/encode.js';
import { spoolSettings } from '../multipart/spool.js';
import { baseHeaders } from './headers.js';
import type { HeaderList } from './header-list.js';
import { retryPolicy, type RetryOptions, type RetryPolicy } from './retry.js';

/** TLS settings for HTTPS uploads (a CA to trust, a client certificate...). */
export type TlsOptions = Pick<
  RequestOptions,
  'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername' | 'minVersion'
>;

/** Chooses the agent for each hop of an upload (its first URL and each redirect): undefined is Node's global agent. */
export type AgentForUrl = (url: URL) => Agent | undefined;

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
  /**
   * An agent (http.Agent for http URLs, https.Agent for https URLs, or a proxy agent), or a function
   * that picks one for each hop's URL (the first and every redirect), so each hop can go through
   * its own proxy. upload() never destroys an agent it is given.
   */
  agent?: Agent | AgentForUrl;
  /**
   * TLS settings. What decides trust (`ca`, `rejectUnauthorized`, `minVersion`) applies to every
   * hop, as curl keeps `--cacert` and `-k` across redirects; what identifies the client or names
   * the first server (`cert`, `key`, `pfx`, `passphrase`, `servername`) is not sent to another
   * origin a redirect leads to.
   */
  tls?: TlsOptions;
  /**
   * HTTP/2: `'auto'` lets ALPN choose over https: (HTTP/1.1 where the server prefers it, and over
   * http:), `true` speaks HTTP/2 only (prior knowledge, h2c, over http:), `false` (default) HTTP/1.1.
   * Uploads to one origin share a session. See docs/http2.md.
   */
  http2?: boolean | 'auto';
  /** The upload rate, at most, in bytes per second (curl's --limit-rate), over HTTP/1.1 and HTTP/2. */
  maxRate?: number;
}

/** Every option of upload(): a new one that is not listed here does not compile. */
const UPLOAD_OPTION_KEYS: OptionRegistry<UploadOptions> = {
  method: true,
  headers: true,
  maxRedirects: true,
  expectContinue: true,
  expectTimeout: true,
  signal: true,
  timeout: true,
  onUploadProgress: true,
  onBodySent: true,
  retry: true,
  agent: true,
  tls: true,
  http2: true,
  maxRate: true,
  boundary: true,
  blockSize: true,
  spool: true,
};

const TLS_OPTION_KEYS: OptionRegistry<TlsOptions> = {
  ca: true,
  cert: true,
  key: true,
  pfx: true,
  passphrase: true,
  rejectUnauthorized: true,
  servername: true,
  minVersion: true,
};

const DEFAULT_EXPECT_THRESHOLD = 1024 * 1024;
const DEFAULT_EXPECT_TIMEOUT_MS = 1000;
const DEFAULT_MAX_REDIRECTS = 5;

/** upload()'s options, checked once and with their defaults. */
export interface UploadSettings {
  method: string;
  headers: HeaderList;
  maxRedirects: number;
  /** true, false, or the size above which (and for unknown sizes) `Expect: 100-continue` is sent. */
  expectContinue: boolean | number;
  expectTimeout: number;
  signal: AbortSignal | undefined;
  timeout: number | undefined;
  onUploadProgress: ((loaded: number, total: number | undefined) => void) | undefined;
  onBodySent: (() => void) | undefined;
  retry: RetryPolicy;
  agent: Agent | AgentForUrl | undefined;
  tls: TlsOptions | undefined;
  http2: boolean | 'auto';
  maxRate: number | undefined;
}

/** Every option checked up front: an unknown or misspelled one is an error naming it, never ignored. */
export function uploadSettings(options: UploadOptions): UploadSettings {
  checkOptionKeys(options, UPLOAD_OPTION_KEYS, fail);
  checkEncodingOptions(options);
  const { method = 'POST', expectContinue = DEFAULT_EXPECT_THRESHOLD } = options;
  checkString(method, 'method', fail);
  if (!TOKEN.test(method)) throw fail(`method must be an HTTP token, not ${describe(method)}`);
  // Node's client hands a CONNECT's answer to a tunnel, never as a response: the upload would be lost.
  if (method.toUpperCase() === 'CONNECT') throw fail('method CONNECT opens a tunnel; it carries no upload');
  if (typeof expectContinue !== 'boolean')
    checkByteCount(expectContinue, 'expectContinue (true, false or a byte count)', fail);
  return {
    method: method.toUpperCase(),
    headers: baseHeaders(options.headers),
    maxRedirects: checkInteger(options.maxRedirects, 'maxRedirects', fail) ?? DEFAULT_MAX_REDIRECTS,
    expectContinue,
    expectTimeout: checkMilliseconds(options.expectTimeout, 'expectTimeout', fail, 0) ?? DEFAULT_EXPECT_TIMEOUT_MS,
    signal: checkSignal(options.signal, 'signal', fail),
    timeout: checkMilliseconds(options.timeout, 'timeout', fail),
    onUploadProgress: checkFunction(options.onUploadProgress, 'onUploadProgress', fail),
    onBodySent: checkFunction(options.onBodySent, 'onBodySent', fail),
    retry: retryPolicy(options.retry),
    agent: checkAgent(options.agent),
    tls: checkTls(options.tls),
    http2: checkHttp2(options.http2),
    maxRate: checkInteger(options.maxRate, 'maxRate (bytes per second)', fail, 1),
  };
}

const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/**
 * The tls options' types, checked before any connection: node:tls throws some of them only once
 * its socket exists (a servername that is not a string), and that socket's own error then has no
 * listener and ends the process.
 */
function checkTls(tls: TlsOptions | undefined): TlsOptions | undefined {
  if (tls === undefined) return undefined;
  checkOptionKeys(tls, TLS_OPTION_KEYS, fail, 'tls');
  for (const name of ['ca', 'cert', 'key', 'pfx'] as const) {
    const value = tls[name] as unknown;
    const items = Array.isArray(value) ? value : [value];
    const bad = items.find((item) => !(typeof item === 'string' || ArrayBuffer.isView(item) || isPlainObject(item)));
    if (value !== undefined && bad !== undefined)
      throw fail(`tls.${name} must be PEM text, a Buffer, or an array of them, not ${describe(bad)}`);
  }
  checkString(tls.passphrase, 'tls.passphrase', fail);
  checkString(tls.servername, 'tls.servername', fail);
  if (tls.rejectUnauthorized !== undefined && typeof tls.rejectUnauthorized !== 'boolean')
    throw fail(`tls.rejectUnauthorized must be true or false, not ${describe(tls.rejectUnauthorized)}`);
  if (tls.minVersion !== undefined && !TLS_VERSIONS.includes(tls.minVersion as string))
    throw fail(`tls.minVersion must be one of ${TLS_VERSIONS.join(', ')}, not ${describe(tls.minVersion)}`);
  return tls;
}

/** `{ pem, passphrase }` and `{ buf, passphrase }` entries, as node:tls takes them in key and pfx arrays. */
function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The encoder's own checks of the options upload() passes on, reported as upload()'s (the encoder's error is `cause`). */
function checkEncodingOptions({ boundary, blockSize, spool }: UploadOptions): void {
  try {
    if (boundary !== undefined) assertValidBoundary(boundary);
    checkByteCount(blockSize, 'blockSize', encodeOptionError, 1);
    spoolSettings(spool, encodeOptionError);
  } catch (cause) {
    throw new UploadError('ERR_INVALID_OPTION', messageOf(cause), { cause });
  }
}

function checkHttp2(http2: unknown): boolean | 'auto' {
  if (http2 === undefined) return false;
  if (typeof http2 !== 'boolean' && http2 !== 'auto')
    throw fail(`http2 must be true, false or 'auto', not ${describe(http2)}`);
  return http2;
}

function checkAgent(agent: unknown): Agent | AgentForUrl | undefined {
  if (agent === undefined || typeof agent === 'function') return agent as AgentForUrl | undefined;
  if (!isAgent(agent))
    throw fail(`agent must be an http.Agent or https.Agent, or a function of the URL, not ${describe(agent)}`);
  return agent;
}

export function isAgent(value: unknown): value is Agent {
  return (
    typeof value === 'object' && value !== null && typeof (value as { addRequest?: unknown }).addRequest === 'function'
  );
}

/** Whether a body of `length` bytes (undefined: unknown) is sent with `Expect: 100-continue`. */
export function wantsContinue(setting: boolean | number, length: number | undefined): boolean {
  if (typeof setting === 'boolean') return setting;
  return length === undefined || length > setting;
}

/**
 * The TLS options for a hop. Trust (`ca`, `rejectUnauthorized`, `minVersion`) follows every hop,
 * as curl's `--cacert` and `-k` do; the client's identity (`cert`, `key`, `pfx`, `passphrase`) and
 * the first server's name (`servername`) stay with the first origin, like Authorization.
 */
export function tlsForHop(tls: TlsOptions | undefined, leftFirstOrigin: boolean): TlsOptions | undefined {
  if (tls === undefined || !leftFirstOrigin) return tls;
  const { ca, rejectUnauthorized, minVersion } = tls;
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
    ...(minVersion === undefined ? {} : { minVersion }),
  };
}
