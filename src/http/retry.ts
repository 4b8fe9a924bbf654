import type { UploadAttempt } from '../common/errors.js';
import { UploadError } from '../common/errors.js';
import { watchRejection } from '../common/callback.js';
import { callbackError } from './callback-error.js';
import {
  checkFunction,
  checkInteger,
  checkMilliseconds,
  checkOptionKeys,
  describe,
  MAX_TIMER_MS,
  TOKEN,
  uploadOptionError as fail,
  type OptionRegistry,
} from '../common/validate.js';

export interface RetryOptions {
  /** Retries after the first attempt (default 2: at most 3 attempts). */
  limit?: number;
  /** Methods retried (default GET PUT HEAD DELETE OPTIONS TRACE; POST and PATCH only when listed). */
  methods?: readonly string[];
  /** Statuses retried (default 408 429 500 502 503 504). */
  statusCodes?: readonly number[];
  /** Socket error codes retried, or 'any' for every failure of the connection (default: see DEFAULT_ERROR_CODES). */
  errorCodes?: readonly string[] | 'any';
  /** The first wait in ms, doubled on each retry (default 1000), or your own `(attempt) => ms`. */
  backoff?: number | ((attempt: number) => number);
  /** The longest `Retry-After` waited for, in ms (default 60000); beyond it the response is returned as it is. */
  maxRetryAfter?: number;
  /** No retry starts (nor a wait before one ends) later than this many ms after the first attempt began. */
  maxRetryTime?: number;
  /** Called before each wait; what it throws fails the upload with ERR_CALLBACK_FAILED. */
  onRetry?: (info: UploadAttempt) => void;
}

export const DEFAULT_RETRY_METHODS = ['GET', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE'];
export const DEFAULT_RETRY_STATUSES = [408, 429, 500, 502, 503, 504];
/**
 * Failures of the connection worth another try. ENOTFOUND is left out: a name that
 * does not resolve is nearly always a wrong name, which a retry only delays; the
 * transient DNS failure has its own code, EAI_AGAIN, which is retried.
 */
export const DEFAULT_RETRY_ERROR_CODES = [
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
];
/** As got: two retries, for idempotent methods only, unless the caller says otherwise. */
export const DEFAULT_LIMIT = 2;
const DEFAULT_BACKOFF_MS = 1000;
/** Exponential waits stop growing here. */
const MAX_BACKOFF_MS = 30_000;
const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

export interface RetryPolicy {
  limit: number;
  /** The caller asked for retries; by default they are tried only where the body can be sent again. */
  explicit: boolean;
  methods: ReadonlySet<string>;
  statusCodes: ReadonlySet<number>;
  errorCodes: ReadonlySet<string> | 'any';
  /** The wait before retry number `attempt` (from 1), in ms. */
  backoff(attempt: number): number;
  maxRetryAfter: number;
  maxRetryTime: number | undefined;
  onRetry: ((info: UploadAttempt) => void) | undefined;
}

const RETRY_KEYS: OptionRegistry<RetryOptions> = {
  limit: true,
  methods: true,
  statusCodes: true,
  errorCodes: true,
  backoff: true,
  maxRetryAfter: true,
  maxRetryTime: true,
  onRetry: true,
};

/**
 * Checks `retry` (a number or an options object) and returns the policy. No option means got's
 * defaults, for bodies that can be sent again: a one-shot stream's failure is then returned as it is.
 */
export function retryPolicy(retry: number | RetryOptions | undefined): RetryPolicy {
  const options: RetryOptions =
    typeof retry === 'number' ? { limit: retry } : checkOptionKeys(retry, RETRY_KEYS, fail, 'retry');
  const limit =
    checkInteger(options.limit, typeof retry === 'number' ? 'retry' : 'retry.limit', fail, 0, 1000) ?? DEFAULT_LIMIT;
  const methods =
    list<string>(options.methods, 'retry.methods', (m) => typeof m === 'string' && TOKEN.test(m), 'HTTP methods') ??
    DEFAULT_RETRY_METHODS;
  const statusCodes =
    list<number>(
      options.statusCodes,
      'retry.statusCodes',
      (s) => Number.isInteger(s) && (s as number) >= 400 && (s as number) <= 599,
      'statuses from 400 to 599',
    ) ?? DEFAULT_RETRY_STATUSES;
  const errorCodes =
    options.errorCodes === 'any'
      ? 'any'
      : (list<string>(
          options.errorCodes,
          "retry.errorCodes (or 'any')",
          (c) => typeof c === 'string' && c !== '',
          'error codes such as "ECONNRESET"',
        ) ?? DEFAULT_RETRY_ERROR_CODES);
  const { backoff } = options;
  if (typeof backoff !== 'function')
    checkMilliseconds(backoff, 'retry.backoff (a number of ms or a function)', fail, 0);
  const maxRetryAfter =
    checkMilliseconds(options.maxRetryAfter, 'retry.maxRetryAfter', fail, 0) ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const maxRetryTime = checkMilliseconds(options.maxRetryTime, 'retry.maxRetryTime', fail, 0);
  const onRetry = checkFunction<(info: UploadAttempt) => void>(options.onRetry, 'retry.onRetry', fail);
  return {
    limit,
    explicit: retry !== undefined,
    methods: new Set(methods.map((m) => m.toUpperCase())),
    statusCodes: new Set(statusCodes),
    errorCodes: errorCodes === 'any' ? 'any' : new Set(errorCodes),
    backoff:
      typeof backoff === 'function'
        ? callerBackoff(backoff)
        : (attempt) => exponentialBackoff(attempt, backoff ?? DEFAULT_BACKOFF_MS),
    maxRetryAfter,
    maxRetryTime,
    onRetry,
  };
}

function list<T>(value: unknown, option: string, valid: (item: unknown) => boolean, what: string): T[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw fail(`${option} must be an array of ${what}, not ${describe(value)}`);
  const bad = value.findIndex((item) => !valid(item));
  if (bad !== -1) throw fail(`${option} must hold ${what}, not ${describe(value[bad])}`);
  return value as T[];
}

/**
 * `base * 2^(attempt-1)`, at most 30 s, then "equal jitter": a uniformly random
 * point in its upper half, so clients that failed together do not retry together.
 */
export function exponentialBackoff(attempt: number, base: number, random: () => number = Math.random): number {
  const full = Math.min(base * 2 ** (attempt - 1), MAX_BACKOFF_MS);
  return Math.round(full / 2 + random() * (full / 2));
}

function callerBackoff(backoff: (attempt: number) => number): (attempt: number) => number {
  return (attempt) => {
    let ms: unknown;
    try {
      ms = backoff(attempt);
    } catch (cause) {
      throw callbackError('retry.backoff', cause);
    }
    if (!(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && ms <= MAX_TIMER_MS)) {
      watchRejection(ms, () => {}); // an async backoff: refused for its promise, whose rejection says nothing more
      throw new UploadError(
        'ERR_INVALID_OPTION',
        `retry.backoff must return milliseconds from 0 to ${MAX_TIMER_MS}, not ${describe(ms)}`,
      );
    }
    return ms;
  };
}

/**
 * `Retry-After` (RFC 9110 §10.2.3) in ms from `now`: delay-seconds or an HTTP-date
 * (a date in the past is 0). undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date always names the weekday and GMT; Date.parse alone would take "5" or "tomorrow"-like text.
  if (!/^[A-Za-z]{3,9}, .+ GMT$|^[A-Za-z]{3} [A-Za-z]{3} +\d{1,2} \d\d:\d\d:\d\d \d{4}$/.test(text)) return undefined;
  const at = Date.parse(text.endsWith('GMT') ? text : `${text} GMT`);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
