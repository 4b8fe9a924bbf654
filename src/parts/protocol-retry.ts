import { watchRejection } from '../common/callback.js';
import type { UploadAttempt } from '../common/errors.js';
import { messageOf } from '../common/messages.js';
import type { RetryPolicy } from '../http/retry.js';
import { PartsError } from './errors.js';
import type { PartsContext } from './protocol.js';

// The caller's retry policy, for the retries a protocol makes itself rather than upload() (a tus or
// Google lane's rounds, S3's complete answered 200 with a transient <Error>).

/** Whether a retry after `delay` ms would start past `maxRetryTime` from `since`, as upload() decides it. */
export function pastRetryTime(policy: RetryPolicy, since: number, delay: number): boolean {
  return policy.maxRetryTime !== undefined && Date.now() + delay - since > policy.maxRetryTime;
}

/**
 * Calls `retry.onRetry` for a retry a protocol makes itself: what it throws is ERR_CALLBACK_FAILED,
 * and an async one, which cannot throw, stops the upload by its rejection wherever the upload then is.
 */
export function tellRetry(ctx: PartsContext, info: UploadAttempt): void {
  let returned: unknown;
  try {
    returned = ctx.policy.onRetry?.(info);
  } catch (error) {
    throw onRetryFailed(error);
  }
  watchRejection(returned, (error) => ctx.fail(onRetryFailed(error)));
}

function onRetryFailed(cause: unknown): PartsError {
  return new PartsError('ERR_CALLBACK_FAILED', `retry.onRetry threw: ${messageOf(cause)}`, { cause });
}
