import type { RetryOptions, UploadAttempt } from '../index.js';
import type { Io } from './io.js';
import { visibleLine } from '../common/visible.js';

export interface RetryArgs {
  /** --retry N (0: none). */
  retry: number;
  /** --retry-delay in ms; undefined (or 0 given) for curl's doubling backoff. */
  retryDelayMs: number | undefined;
  /** --retry-max-time in ms; undefined (or 0 given) for no limit. */
  retryMaxTimeMs: number | undefined;
  retryAllErrors: boolean;
  retryConnrefused: boolean;
  fail: boolean;
  method: string | undefined;
}

/** Every status of 400 or more: what --retry-all-errors with -f retries, as curl does. */
const EVERY_ERROR_STATUS = Array.from({ length: 200 }, (_, i) => 400 + i);

/** curl's longest wait between retries. */
const MAX_BACKOFF_MS = 600_000;

/**
 * curl's --retry: its transient errors, whatever the method (the body is re-sent byte for byte),
 * with its doubling delay. The statuses retried are upload()'s own defaults (408 429 500 502 503
 * 504, curl's list too), left unset here so that there is one list. Without --retry, as in curl,
 * nothing is retried (0: upload() would otherwise use its own defaults).
 */
export function retryFor(args: RetryArgs, io: Io): RetryOptions | 0 {
  if (args.retry === 0) return 0;
  const delay = args.retryDelayMs;
  return {
    limit: args.retry,
    methods: [args.method ?? 'POST'],
    ...(args.retryAllErrors && args.fail ? { statusCodes: EVERY_ERROR_STATUS } : {}),
    // curl's transient failures: a timeout and a host that did not resolve; a refused connection with --retry-connrefused.
    errorCodes: args.retryAllErrors
      ? 'any'
      : ['ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', ...(args.retryConnrefused ? ['ECONNREFUSED'] : [])],
    backoff: delay === undefined ? (attempt) => Math.min(1000 * 2 ** (attempt - 1), MAX_BACKOFF_MS) : () => delay,
    ...(args.retryMaxTimeMs === undefined ? {} : { maxRetryTime: args.retryMaxTimeMs }),
    onRetry: (info: UploadAttempt) => io.stderr.write(retryLine(info, args.retry, io.stderr.isTTY === true)),
  };
}

/** The line announcing a retry; on a terminal it first clears the progress bar it interrupts. */
function retryLine(info: UploadAttempt, retries: number, terminal: boolean): string {
  const left = retries - info.attempt;
  const why = typeof info.reason === 'number' ? `HTTP ${info.reason}` : visibleLine(info.reason);
  return `${terminal ? '\r\x1b[K' : ''}multipart-poster: attempt ${info.attempt} failed (${why}); retrying in ${formatDelay(info.delay)}, ${left} ${left === 1 ? 'retry' : 'retries'} left\n`;
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}
