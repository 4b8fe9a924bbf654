import { describe, expect, it } from 'vitest';
import { MultipartError, UploadError } from '../../src/index.js';
import { decideRetry, failureReason, type RetryQuestion } from '../../src/http/retry-decision.js';
import { retryPolicy, type RetryOptions } from '../../src/http/retry.js';

const now = 1_000_000;
const socketError = (code: string) =>
  new UploadError('ERR_REQUEST_FAILED', code, { cause: Object.assign(new Error(code), { code }) });
const answer = (status: number, retryAfter?: string, bodySent = true) => ({ status, retryAfter, bodySent });

/** `retry: 'absent'` is an upload without the retry option (got's defaults, where the body can be sent again). */
function ask(over: Partial<RetryQuestion> & { retry?: number | RetryOptions | 'absent' }): RetryQuestion {
  const { retry = { backoff: () => 100 }, ...rest } = over;
  return {
    policy: retryPolicy(retry === 'absent' ? undefined : retry),
    attempt: 1,
    method: 'PUT',
    outcome: answer(503),
    replayable: true,
    aborted: false,
    now,
    started: now,
    deadline: Infinity,
    ...rest,
  };
}

describe('the retry decision (a pure function of the policy, the outcome and the clock)', () => {
  it.each<[string, Parameters<typeof ask>[0], string]>([
    ['a 503 to a PUT', {}, 'retry 503 100'],
    ['a 503 that came before the body was all sent', { outcome: answer(503, undefined, false) }, 'retry 503 100'],
    ['an early 413 (the same body is refused again)', { outcome: answer(413, undefined, false) }, 'final'],
    ['an early 401', { outcome: answer(401, undefined, false) }, 'final'],
    ['an early 403', { outcome: answer(403, undefined, false) }, 'final'],
    ['an early 411', { outcome: answer(411, undefined, false) }, 'final'],
    ['a 413 after the body, even with Retry-After', { outcome: answer(413, '1') }, 'final'],
    ['an early 429 with Retry-After: 2', { outcome: answer(429, '2', false) }, 'retry 429 2000'],
    ['a 408', { outcome: answer(408) }, 'retry 408 100'],
    ['a 200', { outcome: answer(200) }, 'final'],
    ['a 301', { outcome: answer(301) }, 'final'],
    ['a 500 to a POST (not idempotent)', { method: 'POST' }, 'final'],
    ['a 500 to a POST listed by the caller', { method: 'POST', retry: { methods: ['POST'], backoff: 5 } }, 'retry 503'],
    ['a Retry-After past maxRetryAfter', { outcome: answer(503, '120') }, 'final'],
    ['a Retry-After as an HTTP-date', { outcome: answer(503, new Date(now + 3000).toUTCString()) }, 'retry 503 3000'],
    ['an unreadable Retry-After: the backoff', { outcome: answer(503, 'soon') }, 'retry 503 100'],
    ['the last attempt', { attempt: 3 }, 'final'],
    ['retry: 0', { retry: 0 }, 'final'],
    ['an aborted upload', { aborted: true }, 'final'],
    ['a wait that would end past the deadline', { deadline: now + 100 }, 'final'],
    ['a wait that ends before the deadline', { deadline: now + 101 }, 'retry 503 100'],
    ['past maxRetryTime', { retry: { maxRetryTime: 50, backoff: () => 100 } }, 'final'],
    ['a one-shot body, retries by default', { retry: 'absent', replayable: false }, 'final'],
    ['a one-shot body, retries asked for', { replayable: false }, 'not-replayable 503 100'],
    ['ECONNRESET', { outcome: { failure: socketError('ECONNRESET') } }, 'retry ECONNRESET 100'],
    ['EPIPE mid-body with no answer to read', { outcome: { failure: socketError('EPIPE') } }, 'retry EPIPE 100'],
    ['ENOTFOUND (a wrong name)', { outcome: { failure: socketError('ENOTFOUND') } }, 'final'],
    [
      'ENOTFOUND with errorCodes any',
      { outcome: { failure: socketError('ENOTFOUND') }, retry: { errorCodes: 'any', backoff: 1 } },
      'retry ENOTFOUND 1',
    ],
    ['a timeout (ERR_TIMEOUT)', { outcome: { failure: new UploadError('ERR_TIMEOUT', 't') } }, 'final'],
    ['a thrown callback', { outcome: { failure: new UploadError('ERR_CALLBACK_FAILED', 'c') } }, 'final'],
    ['a TypeError', { outcome: { failure: new TypeError('x') } }, 'final'],
  ])('%s', (_label, over, expected) => {
    const decision = decideRetry(ask(over));
    const text = decision.kind === 'final' ? 'final' : `${decision.kind} ${decision.reason} ${decision.delay}`;
    expect(text.startsWith(expected)).toBe(true);
  });

  it('a closed connection without an answer counts as ECONNRESET; a failed body source is never retried', () => {
    expect(failureReason(new UploadError('ERR_REQUEST_FAILED', 'closed'))).toBe('ECONNRESET');
    const shrunk = new MultipartError('ERR_SIZE_MISMATCH', 'shrank', { paramName: 'f' });
    expect(failureReason(new UploadError('ERR_REQUEST_FAILED', 'body', { cause: shrunk }))).toBeUndefined();
    expect(
      decideRetry(
        ask({
          retry: { errorCodes: 'any' },
          outcome: { failure: new UploadError('ERR_REQUEST_FAILED', 'b', { cause: shrunk }) },
        }),
      ).kind,
    ).toBe('final');
  });

  it("a backoff function's throw is the one thing that escapes, typed", () => {
    expect(() =>
      decideRetry(
        ask({
          retry: {
            backoff: () => {
              throw new Error('no');
            },
          },
        }),
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_CALLBACK_FAILED' }));
    expect(() => decideRetry(ask({ retry: { backoff: () => NaN } }))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    );
  });
});
