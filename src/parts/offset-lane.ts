import { UploadError } from '../common/errors.js';
import { failureReason } from '../http/retry-decision.js';
import { PartsError } from './errors.js';
import type { PartsContext } from './protocol.js';
import { pastRetryTime, tellRetry } from './protocol-retry.js';

/** What sending a piece came to: the server's offset after it, or a failure worth a retry (the status, if any). */
export type Outcome = { offset: number } | { retry: PartsError; status: number | undefined; retryAfter?: number };

/**
 * A run of bytes a server appends in order (a tus upload, a Google session): pieces go from the
 * server's offset, and a failed piece is not sent again as it was but from the offset the server
 * then reports, as those protocols prescribe.
 */
export interface OffsetLane {
  lane: number;
  /** The lane's first byte and the byte after its last, in the source. */
  start: number;
  end: number;
  url: string;
  /** Sends the source's bytes `from`..`to`: throws for a failure for good, else the outcome. */
  send(from: number, to: number): Promise<Outcome>;
  /** The server's offset now (a status query); throws for a failure for good. */
  query(): Promise<Outcome>;
  /** Keeps an offset in the session's state, once it is checked (`send` and `query` only report it). */
  record(offset: number): void;
}

/**
 * Sends the lane from `offset` to its end. The caller's retries count the rounds that take the lane
 * no further than it has been, once each (a failed request, or an answer with no progress): only
 * an offset past the highest this lane has seen starts the count again, so a server that takes
 * bytes and then loses them, over and over, still ends the lane. Every wait honours Retry-After,
 * and `maxRetryTime` runs from the first attempt since the lane last moved, as upload()'s from a
 * request's first attempt.
 */
export async function runOffsetLane(ctx: PartsContext, lane: OffsetLane, offset: number): Promise<void> {
  let failures = 0;
  let position = offset;
  let highest = offset;
  let since = Date.now();
  ctx.confirm(lane.lane, position - lane.start);
  while (position < lane.end) {
    const to = Math.min(position + ctx.partSize, lane.end);
    let outcome = await attempt(ctx, () => lane.send(position, to));
    let failed = false;
    while (!('offset' in outcome)) {
      failed = true;
      failures++;
      await pause(ctx, lane, outcome, failures, since);
      outcome = await attempt(ctx, () => lane.query());
    }
    const next = checkOffset(outcome.offset, position, to, lane);
    lane.record(next);
    if (next > highest) {
      highest = next;
      failures = 0;
      since = Date.now();
    } else if (!failed && ++failures > ctx.policy.limit) {
      throw new PartsError(
        'ERR_PIECE_FAILED',
        `the server at ${lane.url} reports offset ${next}, no further than the ${highest} it reached before`,
      );
    }
    position = next;
    ctx.confirm(lane.lane, position - lane.start);
  }
}

/** Runs one request; a failure of the connection the retry policy names becomes an outcome to retry. */
async function attempt(ctx: PartsContext, request: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await request();
  } catch (error) {
    if (ctx.signal.aborted || !(error instanceof PartsError)) throw error;
    const cause = error.cause;
    const reason = cause instanceof UploadError ? failureReason(cause) : undefined;
    const errorCodes = ctx.policy.errorCodes;
    if (reason === undefined || (errorCodes !== 'any' && !errorCodes.has(reason))) throw error;
    return { retry: error, status: undefined };
  }
}

async function pause(
  ctx: PartsContext,
  lane: OffsetLane,
  outcome: Exclude<Outcome, { offset: number }>,
  failures: number,
  since: number,
): Promise<void> {
  const { policy } = ctx;
  const { retryAfter, status } = outcome;
  if (failures > policy.limit || (retryAfter !== undefined && retryAfter > policy.maxRetryAfter)) throw outcome.retry;
  const delay = retryAfter ?? policy.backoff(failures);
  if (pastRetryTime(policy, since, delay)) throw outcome.retry;
  const cause = outcome.retry.cause;
  const reason = status ?? (cause instanceof UploadError ? failureReason(cause) : undefined) ?? 'ECONNRESET';
  const error = cause instanceof UploadError ? cause : undefined;
  tellRetry(ctx, { attempt: failures, reason, status, error, delay, url: lane.url });
  await ctx.wait(delay);
}

/** The server's offset must lie within the lane and never past the bytes sent. */
function checkOffset(offset: number, from: number, to: number, lane: OffsetLane): number {
  if (!Number.isSafeInteger(offset) || offset < lane.start || offset > to) {
    throw new PartsError(
      'ERR_UNEXPECTED_RESPONSE',
      `the server at ${lane.url} reports offset ${offset}, outside the bytes ${lane.start} to ${to} sent so far (from ${from})`,
      { url: lane.url },
    );
  }
  return offset;
}
