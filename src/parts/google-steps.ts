import { parseRetryAfter } from '../http/retry.js';
import type { ProtocolSteps } from './deferred.js';
import { PartsError } from './errors.js';
import { callerValue, checkUrl, GONE, isSuccess, refused, unexpected } from './answers.js';
import { runOffsetLane, type OffsetLane, type Outcome } from './offset-lane.js';
import type { ControlResponse, PartsContext } from './protocol.js';
import type { GoogleResumableResult, GoogleSettings, GoogleState } from './google.js';

/** Google's requests: what googleResumable() loads on an upload's first step. */
export const googleSteps: ProtocolSteps<GoogleSettings, GoogleState, GoogleResumableResult, number> = {
  begin,
  resume,
  run: (ctx, settings, state) => runOffsetLane(ctx, lane(ctx, settings, state), state.offset),
  finish,
  abandon,
};

async function begin(ctx: PartsContext, settings: GoogleSettings): Promise<GoogleState> {
  const fresh = (url: string): GoogleState => ({ url, offset: 0, final: undefined });
  if (settings.sessionUrl !== undefined) {
    const state = fresh(new URL(settings.sessionUrl).href);
    if (!(await resume(ctx, settings, state)))
      throw new PartsError('ERR_SESSION_EXPIRED', `the session ${state.url} is gone`);
    return state;
  }
  const { start } = settings;
  if (typeof start === 'function')
    return fresh(checkUrl(await callerValue('googleResumable start', start, ctx.signal), 'start'));
  const headers: Record<string, string> = { ...settings.headers, 'x-upload-content-length': String(ctx.size) };
  if (settings.contentType !== undefined) headers['x-upload-content-type'] = settings.contentType;
  if (settings.metadata !== undefined) headers['content-type'] = 'application/json; charset=UTF-8';
  const what = 'starting the resumable session';
  const response = await ctx.request({ step: 'start', url: start!, method: 'POST', headers, body: settings.metadata });
  if (!isSuccess(response.status)) throw refused('start', what, response);
  const location = response.headers.get('location');
  if (location === null || location.trim() === '')
    throw unexpected(what, response, 'the answer has no Location (the session URI)');
  // Relative to the URL that answered (RFC 9110): not `start` once a redirect was followed.
  return fresh(checkUrl(new URL(location, response.url || start!).href, 'the session URI'));
}

/** The status query (`Content-Range: bytes *\/N`): where the server is; false when the session is gone. */
async function resume(ctx: PartsContext, settings: GoogleSettings, state: GoogleState): Promise<boolean> {
  const response = await statusQuery(ctx, settings, state, 'resume');
  if (GONE.has(response.status)) return false;
  const what = 'asking the session for its status';
  const outcome = outcomeOf(ctx, settings, state, response, 'resume', what, ctx.size);
  if (!('offset' in outcome)) throw outcome.retry;
  // The check a piece's answer gets: a session cannot hold more than the file (nothing would be sent).
  if (outcome.offset > ctx.size)
    throw unexpected(what, response, `the server holds ${outcome.offset} bytes, past the file's ${ctx.size}`);
  state.offset = outcome.offset;
  ctx.confirm(0, state.offset);
  return true;
}

function statusQuery(
  ctx: PartsContext,
  settings: GoogleSettings,
  state: GoogleState,
  step: 'resume' | 'piece' | 'complete',
) {
  const headers = { ...settings.headers, 'content-range': `bytes */${ctx.size}` };
  // 308 is Google's "Resume Incomplete": its Location is no redirect to follow.
  return ctx.request({
    step,
    url: state.url,
    method: 'PUT',
    headers,
    retry: step !== 'piece',
    redirects: false,
    limit: FINAL_ANSWER_LIMIT,
  });
}

/**
 * The upload is whole on the server, but its answer is longer than is read: not cut, and the
 * session not cancelled (ERR_COMPLETE_UNKNOWN leaves it be), since the object is stored.
 */
function finalTooLong(what: string, response: ControlResponse): PartsError {
  return new PartsError(
    'ERR_COMPLETE_UNKNOWN',
    `${what}: the server reports the upload complete (${response.status}), but its answer is longer than ${FINAL_ANSWER_LIMIT} bytes, so the resource's metadata cannot be returned whole`,
    { status: response.status, url: response.url },
  );
}

/**
 * The most of the final answer read: the resource's metadata, which the result hands on whole
 * (a Drive file's runs to a few KiB). A longer one is refused, never cut.
 */
const FINAL_ANSWER_LIMIT = 1024 * 1024;

function lane(ctx: PartsContext, settings: GoogleSettings, state: GoogleState): OffsetLane {
  return {
    lane: 0,
    start: 0,
    end: ctx.size,
    url: state.url,
    async send(from, to) {
      const headers = { ...settings.headers, 'content-range': `bytes ${from}-${to - 1}/${ctx.size}` };
      const response = await ctx.send({
        lane: 0,
        url: state.url,
        method: 'PUT',
        headers,
        start: from,
        end: to,
        retry: false,
        expectContinue: false,
        redirects: false,
        limit: FINAL_ANSWER_LIMIT,
      });
      return outcomeOf(ctx, settings, state, response, 'piece', `sending bytes ${from} to ${to}`, to);
    },
    async query() {
      const response = await statusQuery(ctx, settings, state, 'piece');
      return outcomeOf(ctx, settings, state, response, 'piece', 'asking the session for its status', ctx.size);
    },
    record(offset) {
      state.offset = offset;
    },
  };
}

/** 308 and its Range, or the final 200/201, or a failure: gone (404, 410), worth a retry (the policy's statuses) or final. */
function outcomeOf(
  ctx: PartsContext,
  _settings: GoogleSettings,
  state: GoogleState,
  response: ControlResponse,
  step: 'resume' | 'piece',
  what: string,
  sent: number,
): Outcome {
  const { status } = response;
  if (status === 308) {
    const range = response.headers.get('range');
    const match = range === null ? undefined : /^bytes=0-(\d+)$/.exec(range.trim());
    if (range !== null && match === null)
      throw unexpected(what, response, `Range ${JSON.stringify(range)} is not bytes=0-N`);
    // Reported, not kept: the caller checks it first (a bogus offset must not reach `stored`).
    return { offset: match ? Number(match[1]) + 1 : 0 };
  }
  if (status === 200 || status === 201) {
    if (sent !== ctx.size)
      throw unexpected(what, response, `the upload was declared complete after ${sent} of ${ctx.size} bytes`);
    if (response.cut) throw finalTooLong(what, response);
    state.final = { status, body: response.text };
    return { offset: ctx.size };
  }
  if (GONE.has(status)) throw refused(step, what, response, 'ERR_SESSION_EXPIRED');
  if (ctx.policy.statusCodes.has(status)) {
    const retryAfter = parseRetryAfter(response.headers.get('retry-after') ?? undefined);
    return { retry: refused(step, what, response), status, ...(retryAfter === undefined ? {} : { retryAfter }) };
  }
  throw refused(step, what, response);
}

async function finish(ctx: PartsContext, settings: GoogleSettings, state: GoogleState): Promise<GoogleResumableResult> {
  if (state.final === undefined) {
    // An empty file, or one whose last piece's answer was lost: the status query finishes or reports it.
    const response = await statusQuery(ctx, settings, state, 'complete');
    if (GONE.has(response.status)) throw refused('complete', 'finishing the session', response, 'ERR_SESSION_EXPIRED');
    if (response.status !== 200 && response.status !== 201)
      throw unexpected('finishing the session', response, 'the server does not report the upload complete');
    if (response.cut) throw finalTooLong('finishing the session', response);
    state.final = { status: response.status, body: response.text };
  }
  return { url: state.url, ...state.final, size: ctx.size, resumedBytes: ctx.resumedBytes };
}

/** Cancels the session: DELETE (Cloud Storage answers 499 when it is done). */
async function abandon(ctx: PartsContext, settings: GoogleSettings, state: GoogleState): Promise<void> {
  const response = await ctx.request({ step: 'abandon', url: state.url, method: 'DELETE', headers: settings.headers });
  if (!isSuccess(response.status) && response.status !== 499 && !GONE.has(response.status))
    throw refused('abandon', 'cancelling the session', response);
}
