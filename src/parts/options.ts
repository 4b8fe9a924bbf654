import { UploadError } from '../common/errors.js';
import {
  checkFunction,
  checkInteger,
  checkMilliseconds,
  checkOptionKeys,
  checkSignal,
  describe,
} from '../common/validate.js';
import { retryPolicy, type RetryOptions, type RetryPolicy } from '../http/retry.js';
import type { TlsOptions, UploadOptions } from '../http/upload.js';
import { PartsError, partsOptionError as fail } from './errors.js';
import { implOf, type PartsProtocol, type ProtocolImpl } from './protocol.js';
import { fileSessionStore, type SessionStore } from './store.js';

export interface UploadPartsOptions<Result> {
  /** How pieces are sent and the whole is started, finished and abandoned: `s3Parts()`, `tus()` or `googleResumable()`. */
  protocol: PartsProtocol<Result>;
  /**
   * Bytes per piece (default: the protocol's: 8 MiB, more when a file would need over 10,000 S3
   * parts; tus: each upload in one PATCH).
   */
  partSize?: number;
  /** Pieces in flight at once, 1 to 64 (default 4); protocols that append in order send one at a time. */
  concurrency?: number;
  /**
   * Where sessions are kept, to resume after a restart: a `SessionStore`, a directory for JSON
   * files, or false for none. Default: JSON files in `defaultSessionDirectory()`. Only file paths
   * have sessions (bytes and Blobs have no identity to check).
   */
  store?: SessionStore | string | false;
  /**
   * On a failure or abort, keep the server's upload and the session (the same call resumes it
   * later) instead of running the protocol's abandon step. Default false.
   */
  keepSession?: boolean;
  /** Stops the upload: no piece starts, pieces in flight are stopped, then as a failure (see keepSession). */
  signal?: AbortSignal;
  /** `(loaded, total)`: bytes handed to the sockets, across pieces, at least every 64 KiB. */
  onProgress?: (loaded: number, total: number) => void;
  /** upload()'s retry option, for each piece on its own and each request of the protocol. */
  retry?: number | RetryOptions;
  /** Milliseconds for each request (not the whole upload). */
  timeout?: number;
  agent?: UploadOptions['agent'];
  tls?: TlsOptions;
  /** upload()'s `http2` for every request: `'auto'` (ALPN over https), `true` (HTTP/2 only), `false` (default). */
  http2?: boolean | 'auto';
  /**
   * The most bytes per second sent across all pieces in flight: each of the `concurrency` pieces is
   * paced at an equal share (upload()'s `maxRate`). Default: no limit.
   */
  maxRate?: number;
}

export interface Settings {
  impl: ProtocolImpl<unknown, unknown>;
  partSize: number | undefined;
  concurrency: number;
  store: SessionStore | undefined;
  keepSession: boolean;
  signal: AbortSignal | undefined;
  onProgress: ((loaded: number, total: number) => void) | undefined;
  retry: number | RetryOptions | undefined;
  policy: RetryPolicy;
  timeout: number | undefined;
  agent: UploadOptions['agent'];
  tls: TlsOptions | undefined;
  http2: boolean | 'auto' | undefined;
  maxRate: number | undefined;
}

const KEYS = [
  'protocol',
  'partSize',
  'concurrency',
  'store',
  'keepSession',
  'signal',
  'onProgress',
  'retry',
  'timeout',
  'agent',
  'tls',
  'http2',
  'maxRate',
];
export const MAX_CONCURRENCY = 64;
const DEFAULT_CONCURRENCY = 4;

/** Every option checked before anything is read or sent: a misspelt or out-of-range one is an error naming it. */
export function checkPartsOptions(options: unknown): Settings {
  if (options === undefined)
    throw fail('uploadParts needs options with a protocol: s3Parts(), tus() or googleResumable()');
  const given = checkOptionKeys(options as UploadPartsOptions<unknown>, KEYS, fail);
  const impl = implOf(given.protocol);
  if (impl === undefined)
    throw fail(`protocol must be s3Parts(), tus() or googleResumable(), not ${describe(given.protocol)}`);
  const { keepSession, agent, tls, http2 } = given;
  // By its shape, as upload() takes it: removeEventListener included, which the call ends with.
  const signal = checkSignal(given.signal, 'signal', fail);
  if (keepSession !== undefined && typeof keepSession !== 'boolean')
    throw fail(`keepSession must be true or false, not ${describe(keepSession)}`);
  if (agent !== undefined && typeof agent !== 'function' && !isAgentLike(agent))
    throw fail(`agent must be an http.Agent, an https.Agent or a function, not ${describe(agent)}`);
  if (tls !== undefined && (typeof tls !== 'object' || tls === null))
    throw fail(`tls must be an object, not ${describe(tls)}`);
  if (http2 !== undefined && typeof http2 !== 'boolean' && http2 !== 'auto')
    throw fail(`http2 must be true, false or 'auto', not ${describe(http2)}`);
  return {
    impl,
    partSize: checkInteger(given.partSize, 'partSize', fail, 1),
    concurrency: checkInteger(given.concurrency, 'concurrency', fail, 1, MAX_CONCURRENCY) ?? DEFAULT_CONCURRENCY,
    store: storeOf(given.store),
    keepSession: keepSession ?? false,
    signal,
    onProgress: checkFunction(given.onProgress, 'onProgress', fail),
    retry: given.retry,
    policy: policyOf(given.retry),
    timeout: checkMilliseconds(given.timeout, 'timeout', fail),
    agent,
    tls,
    http2,
    maxRate: checkInteger(given.maxRate, 'maxRate (bytes per second)', fail, 1),
  };
}

function policyOf(retry: unknown): RetryPolicy {
  try {
    return retryPolicy(retry as number | RetryOptions | undefined);
  } catch (error) {
    if (error instanceof UploadError) throw new PartsError('ERR_INVALID_OPTION', error.message, { cause: error });
    throw error;
  }
}

function storeOf(store: unknown): SessionStore | undefined {
  if (store === false) return undefined;
  if (store === undefined) return fileSessionStore();
  if (typeof store === 'string') {
    if (store === '') throw fail('store must name a directory, not ""');
    return fileSessionStore(store);
  }
  const candidate = store as Partial<Record<keyof SessionStore, unknown>>;
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof candidate.get !== 'function' ||
    typeof candidate.set !== 'function' ||
    typeof candidate.delete !== 'function'
  ) {
    throw fail(`store must be a SessionStore (get, set, delete), a directory or false, not ${describe(store)}`);
  }
  return store as SessionStore;
}

function isAgentLike(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && typeof (value as { addRequest?: unknown }).addRequest === 'function'
  );
}
