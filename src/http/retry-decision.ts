import { MultipartError, UploadError } from '../common/errors.js';
import { isUnprocessed } from './h2/errors.js';
import { parseRetryAfter, type RetryPolicy } from './retry.js';

/** How an attempt ended: an answer (with whether the whole body went out before it), or a failure. */
export type AttemptOutcome =
  { status: number; retryAfter: string | string[] | undefined; bodySent: boolean } | { failure: unknown };

export interface RetryQuestion {
  policy: RetryPolicy;
  /** The attempt that just ended, from 1. */
  attempt: number;
  method: string;
  outcome: AttemptOutcome;
  /** Whether the body can be sent again (no one-shot stream in it was read). */
  replayable: boolean;
  /** The exchange was aborted or timed out: nothing more is tried. */
  aborted: boolean;
  /** Milliseconds since the epoch, now; when the first attempt began; when the exchange's timeout ends (Infinity: none). */
  now: number;
  started: number;
  deadline: number;
}

/**
 * `final`: the outcome is the upload's (an answer returned, a failure thrown). `retry`: send the
 * request again after `delay` ms. `not-replayable`: a retry is due, but the body's one-shot stream
 * was read already: the caller asked for retries, so it learns why there is none.
 */
export type RetryDecision =
  { kind: 'final' } | { kind: 'retry' | 'not-replayable'; reason: number | string; delay: number };

const FINAL: RetryDecision = { kind: 'final' };

/**
 * Whether and when an attempt is tried again: a pure function of the policy, the attempt's
 * outcome and the clock (as got's calculate-retry-delay). Only `policy.backoff`, which may be
 * the caller's function, can throw.
 *
 * An early answer (one that came before the whole body was sent: 413, 401, 403...) is judged by
 * its status like any answer: the default statuses (408, 429, 5xx) say "later", every other
 * refusal would come back the same, so it is final. A connection that fails with no answer to
 * read (upload() reads an answer already in the socket before it reports a write error) is a
 * connection failure, retried by its code.
 */
export function decideRetry(question: RetryQuestion): RetryDecision {
  const { policy, attempt, method, outcome } = question;
  // A request the server did not process (HTTP/2's REFUSED_STREAM, a stream above a GOAWAY's last
  // stream id) is safe to send again whatever its method and its code (RFC 9113 §8.7).
  const unprocessed = 'failure' in outcome && isUnprocessed(outcome.failure);
  if (question.aborted || attempt > policy.limit || !(unprocessed || policy.methods.has(method))) return FINAL;
  const due =
    'failure' in outcome ? failureRetry(policy, attempt, outcome.failure, unprocessed) : answerRetry(question);
  if (due === undefined) return FINAL;
  const { reason, delay } = due;
  // A retry that could not start before the deadline is not worth waiting for: this outcome is final.
  const resumeAt = question.now + delay;
  if (resumeAt >= question.deadline) return FINAL;
  if (policy.maxRetryTime !== undefined && resumeAt - question.started > policy.maxRetryTime) return FINAL;
  if (question.replayable) return { kind: 'retry', reason, delay };
  // Retries by default go only where they can: without the caller asking, the outcome is final, as without them.
  return policy.explicit ? { kind: 'not-replayable', reason, delay } : FINAL;
}

type Due = { reason: number | string; delay: number } | undefined;

/** A failed attempt is retried by its code: one the policy names, or any for a request not processed. */
function failureRetry(policy: RetryPolicy, attempt: number, failure: unknown, unprocessed: boolean): Due {
  const code = failureReason(failure);
  if (code === undefined || !(unprocessed || policy.errorCodes === 'any' || policy.errorCodes.has(code)))
    return undefined;
  // A connection that went away (GOAWAY) is no sign of load: the request goes again at once, on a new one.
  return { reason: code, delay: code === 'GOAWAY' ? 0 : policy.backoff(attempt) };
}

/** An answer is retried by its status, after its Retry-After (when not too long) or the backoff. */
function answerRetry({ policy, attempt, outcome, now }: RetryQuestion): Due {
  if ('failure' in outcome || !policy.statusCodes.has(outcome.status)) return undefined;
  const retryAfter = parseRetryAfter(outcome.retryAfter, now);
  if (retryAfter !== undefined && retryAfter > policy.maxRetryAfter) return undefined;
  return { reason: outcome.status, delay: retryAfter ?? policy.backoff(attempt) };
}

/**
 * The error code a failed attempt is judged by: the socket error's, or ECONNRESET for a connection
 * closed without an answer. undefined for what is not the connection's failure (the body's own
 * source failed, a callback threw, an abort): those are never retried.
 */
export function failureReason(error: unknown): string | undefined {
  if (!(error instanceof UploadError) || error.code !== 'ERR_REQUEST_FAILED') return undefined;
  if (error.cause instanceof MultipartError) return undefined;
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'ECONNRESET';
}
