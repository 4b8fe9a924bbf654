import type { ProtocolSteps } from './deferred.js';
import { PartsError } from './errors.js';
import { GONE, isSuccess, refused, unexpected } from './answers.js';
import { runOffsetLane } from './offset-lane.js';
import type { PartsContext } from './protocol.js';
import { concatenate, finalOfSession, refuseToAbandonUnknownFinal } from './tus-final.js';
import { discover, headerInteger, locationOf, tusLane } from './tus-requests.js';
import { SMALLEST_PARTIAL, WHOLE_LANE, type LaneLeft, type TusResult, type TusSettings, type TusState } from './tus.js';

/** tus' requests: what tus() loads on an upload's first step. */
export const tusSteps: ProtocolSteps<TusSettings, TusState, TusResult, LaneLeft> = {
  begin,
  resume,
  run: (ctx, settings, state, { index, offset }) => runOffsetLane(ctx, tusLane(ctx, settings, state, index), offset),
  finish,
  abandon,
};

async function begin(ctx: PartsContext, settings: TusSettings): Promise<TusState> {
  if (settings.uploadUrl !== undefined) {
    const state = single(settings.uploadUrl, ctx.size, undefined);
    if (!(await resume(ctx, settings, state)))
      throw new PartsError('ERR_SESSION_EXPIRED', `the tus upload ${settings.uploadUrl} is gone`);
    return state;
  }
  const offers = await discover(ctx, settings);
  if (offers.maxSize !== undefined && ctx.size > offers.maxSize)
    throw new PartsError(
      'ERR_START_FAILED',
      `the server takes uploads of at most ${offers.maxSize} bytes (Tus-Max-Size)`,
    );
  const wanted = settings.checksum === true ? ['sha256', 'sha1', 'md5'] : settings.checksum ? [settings.checksum] : [];
  const checksum = wanted.find((name) => offers.checksums.includes(name));
  const split = ctx.partSize === WHOLE_LANE ? SMALLEST_PARTIAL : ctx.partSize;
  const count = Math.min(ctx.concurrency, Math.ceil(ctx.size / split));
  if (!(settings.parallel && count > 1 && offers.extensions.includes('concatenation'))) {
    const url = await create(ctx, settings, ctx.size, { 'upload-metadata': settings.metadata });
    return single(url, ctx.size, checksum);
  }
  const state: TusState = { lanes: [], final: undefined, concat: true, checksum };
  const share = Math.ceil(ctx.size / count);
  for (let start = 0; start < ctx.size; start += share) {
    const end = Math.min(ctx.size, start + share);
    const url = await create(ctx, settings, end - start, { 'upload-concat': 'partial' });
    // Two shares sent to one upload would be joined into a final upload of the wrong bytes.
    if (state.lanes.some((lane) => lane.url === url))
      throw new PartsError(
        'ERR_UNEXPECTED_RESPONSE',
        `creating the tus upload: the server named ${url} for two partial uploads`,
        { url },
      );
    state.lanes.push({ url, start, end, offset: start });
    // Saved at once, and abandoned with the others should a later one fail.
    await ctx.save(state);
  }
  return state;
}

function single(url: string, size: number, checksum: string | undefined): TusState {
  return { lanes: [{ url, start: 0, end: size, offset: 0 }], final: undefined, concat: false, checksum };
}

async function create(
  ctx: PartsContext,
  settings: TusSettings,
  length: number,
  extra: Record<string, string | undefined>,
): Promise<string> {
  const headers: Record<string, string> = { ...settings.headers, 'upload-length': String(length) };
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) headers[name] = value;
  const response = await ctx.request({ step: 'start', url: settings.endpoint!, method: 'POST', headers });
  if (response.status !== 201) throw refused('start', 'creating the tus upload', response);
  return locationOf(response, settings.endpoint!, 'creating the tus upload');
}

/** Asks each upload of the session for its offset; false when one is gone (or no longer this file's length). */
async function resume(ctx: PartsContext, settings: TusSettings, state: TusState): Promise<boolean> {
  if (state.concat && (await finalOfSession(ctx, settings, state)) === 'done') {
    // Killed once the final upload was made: it holds the whole file, nothing is left to send.
    state.lanes.forEach((lane, index) => ctx.confirm(index, (lane.offset = lane.end) - lane.start));
    return true;
  }
  for (const [index, lane] of state.lanes.entries()) {
    const offset = await offsetOf(ctx, settings, lane.url, lane.end - lane.start);
    if (offset === undefined) return false;
    lane.offset = lane.start + offset;
    ctx.confirm(index, offset);
  }
  return true;
}

/** HEAD: the upload's offset, or undefined when it is gone or not of this length. */
async function offsetOf(
  ctx: PartsContext,
  settings: TusSettings,
  url: string,
  length: number,
): Promise<number | undefined> {
  const response = await ctx.request({ step: 'resume', url, method: 'HEAD', headers: settings.headers });
  if (GONE.has(response.status) || response.status === 403) return undefined;
  if (!isSuccess(response.status)) throw refused('resume', `asking ${url} for its offset`, response);
  const offset = headerInteger(response, 'upload-offset');
  if (response.headers.has('upload-length') && headerInteger(response, 'upload-length') !== length) return undefined;
  if (offset === undefined || offset > length)
    throw unexpected(`asking ${url} for its offset`, response, 'no valid Upload-Offset');
  return offset;
}

async function finish(ctx: PartsContext, settings: TusSettings, state: TusState): Promise<TusResult> {
  const partials = state.concat ? state.lanes.map((lane) => lane.url) : [];
  if (state.concat && state.final === undefined) await concatenate(ctx, settings, state);
  return { url: state.final ?? state.lanes[0]!.url, partials, size: ctx.size, resumedBytes: ctx.resumedBytes };
}

/** Termination: DELETE each upload of the session (gone already counts as done). */
async function abandon(ctx: PartsContext, settings: TusSettings, state: TusState): Promise<void> {
  refuseToAbandonUnknownFinal(settings, state);
  const urls = [...state.lanes.map((lane) => lane.url), ...(state.final === undefined ? [] : [state.final])];
  for (const url of urls) {
    const response = await ctx.request({ step: 'abandon', url, method: 'DELETE', headers: settings.headers });
    if (!isSuccess(response.status) && !GONE.has(response.status))
      throw refused('abandon', `terminating ${url}`, response);
  }
}
