import { checkOptionKeys, describe } from '../common/validate.js';
import { partsOptionError as fail, PartsError } from './errors.js';
import { GONE, isSuccess, refused, unexpected } from './answers.js';
import { makeProtocol, type PartsContext, type PartsProtocol } from './protocol.js';
import { checkHeaders, checkUrlOption, describeUrl } from './protocol-options.js';
import { runOffsetLane } from './offset-lane.js';
import { concatenate, finalOfSession } from './tus-final.js';
import { discover, locationOf, tusLane, type TusLaneState } from './tus-requests.js';

export interface TusOptions {
  /** The server's tus endpoint: uploads are created there (POST). */
  endpoint?: string | URL;
  /** An upload created elsewhere: its URL (no creation request). */
  uploadUrl?: string | URL;
  /** `Upload-Metadata` pairs (names without spaces or commas; values sent base64-encoded). */
  metadata?: Record<string, string>;
  /** Headers sent with every request (Authorization...). */
  headers?: Record<string, string>;
  /**
   * `Upload-Checksum` with each PATCH, when the server offers the checksum extension: true (default)
   * picks sha256, sha1 or md5, whichever it lists first in that order; false sends none. Each piece is
   * read once more before it is sent.
   */
  checksum?: boolean | 'sha1' | 'md5' | 'sha256';
  /** Parallel partial uploads joined by the concatenation extension, when the server offers it (default true). */
  parallel?: boolean;
}

export interface TusResult {
  /** The upload's URL (the final upload's, when partial uploads were concatenated). */
  url: string;
  /** The partial uploads' URLs, when the upload was sent in parallel. */
  partials: string[];
  size: number;
  /** Bytes the server already held when this call began (a resumed session). */
  resumedBytes: number;
}

/** What a tus session keeps: one upload, or partial uploads and the final one that joins them. */
export interface TusState {
  lanes: TusLaneState[];
  /** The upload joining the partial ones, once created. */
  final: string | undefined;
  /** Set once the final upload was asked for, before its answer (absent from sessions of older versions). */
  finalRequested?: boolean;
  concat: boolean;
  /** The Upload-Checksum algorithm, when the server offers one we use. */
  checksum: string | undefined;
}

const KEYS = ['endpoint', 'uploadUrl', 'metadata', 'headers', 'checksum', 'parallel'];
/**
 * By default an upload (or each partial upload) goes in one PATCH, as tus-js-client sends it: each
 * PATCH is a request the server handles on its own (a lock, the upload's metadata read and
 * written) and the pipe drains between two, while a failed one is resumed from the offset the
 * server reports, not sent again whole, so a large piece costs nothing on a failure. `partSize`
 * cuts pieces for servers or proxies that limit a request's size.
 */
const WHOLE_LANE = 2 ** 52;
/** Without a partSize, partial uploads (concatenation) of at least this size each. */
const SMALLEST_PARTIAL = 64 * 1024 * 1024;
export const TUS_VERSION = '1.0.0';

/** tus 1.0: core, creation, termination, checksum and concatenation (parallel pieces) where the server offers them. */
export function tus(options: TusOptions): PartsProtocol<TusResult> {
  const given = checkOptionKeys(options, KEYS, fail, 'tus options');
  if ((given.endpoint === undefined) === (given.uploadUrl === undefined))
    throw fail('tus needs either endpoint (to create the upload) or uploadUrl, not both');
  const url = checkUrlOption(given.endpoint ?? given.uploadUrl, given.endpoint ? 'tus endpoint' : 'tus uploadUrl');
  const { checksum, parallel } = given;
  if (checksum !== undefined && typeof checksum !== 'boolean' && !['sha1', 'md5', 'sha256'].includes(checksum))
    throw fail(`tus checksum must be true, false, 'sha1', 'md5' or 'sha256', not ${describe(checksum)}`);
  if (parallel !== undefined && typeof parallel !== 'boolean')
    throw fail(`tus parallel must be true or false, not ${describe(parallel)}`);
  const settings: TusSettings = {
    endpoint: given.endpoint === undefined ? undefined : url.href,
    uploadUrl: given.uploadUrl === undefined ? undefined : url.href,
    metadata: encodeMetadata(given.metadata),
    headers: { ...checkHeaders(given.headers, 'tus headers'), 'tus-resumable': TUS_VERSION },
    checksum: checksum ?? true,
    parallel: parallel ?? true,
  };
  return makeProtocol<TusResult, TusState>({
    name: 'tus',
    target: describeUrl(url),
    partSize: (_size, requested) => requested ?? WHOLE_LANE,
    lanes: (concurrency) => concurrency,
    begin: (ctx) => begin(ctx, settings),
    resume: (ctx, state) => resume(ctx, settings, state),
    work: (ctx, state) =>
      state.lanes
        .map((lane, index) => ({ lane, index }))
        .filter(({ lane }) => lane.offset < lane.end)
        .map(
          ({ lane, index }) =>
            () =>
              runOffsetLane(ctx, tusLane(ctx, settings, state, index), lane.offset),
        ),
    finish: (ctx, state) => finish(ctx, settings, state),
    abandon: (ctx, state) => abandon(ctx, settings, state),
    stored: (state) =>
      state.lanes.filter((lane) => lane.offset > lane.start).map((lane) => ({ start: lane.start, end: lane.offset })),
    sessionId: (state) => state.final ?? state.lanes.map((lane) => lane.url).join(' '),
    isState: (value): value is TusState =>
      typeof value === 'object' && value !== null && Array.isArray((value as TusState).lanes),
  });
}

export interface TusSettings {
  endpoint: string | undefined;
  uploadUrl: string | undefined;
  metadata: string | undefined;
  headers: Record<string, string>;
  checksum: boolean | string;
  parallel: boolean;
}

/** `Upload-Metadata`: `name base64(value)` pairs, comma-separated. */
function encodeMetadata(metadata: unknown): string | undefined {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    throw fail(`tus metadata must be an object of names and string values, not ${describe(metadata)}`);
  const pairs = Object.entries(metadata).map(([name, value]) => {
    if (!/^[\x21-\x2b\x2d-\x7e]+$/.test(name))
      throw fail(`tus metadata: ${JSON.stringify(name)} must be ASCII without spaces or commas`);
    if (typeof value !== 'string') throw fail(`tus metadata: ${name} must be a string, not ${describe(value)}`);
    return value === '' ? name : `${name} ${Buffer.from(value, 'utf8').toString('base64')}`;
  });
  return pairs.length === 0 ? undefined : pairs.join(',');
}

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
  const offset = Number(response.headers.get('upload-offset') ?? NaN);
  const declared = response.headers.get('upload-length');
  if (declared !== null && Number(declared) !== length) return undefined;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > length)
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
  const urls = [...state.lanes.map((lane) => lane.url), ...(state.final === undefined ? [] : [state.final])];
  for (const url of urls) {
    const response = await ctx.request({ step: 'abandon', url, method: 'DELETE', headers: settings.headers });
    if (!isSuccess(response.status) && !GONE.has(response.status))
      throw refused('abandon', `terminating ${url}`, response);
  }
}
