import { parseRetryAfter } from '../http/retry.js';
import { GONE, isSuccess, refused, unexpected } from './answers.js';
import type { OffsetLane, Outcome } from './offset-lane.js';
import type { ControlResponse, DigestAlgorithm, PartsContext, Step } from './protocol.js';
import { TUS_VERSION, type TusSettings, type TusState } from './tus.js';

/**
 * A tus header's non-negative integer (Upload-Offset, Upload-Length, Tus-Max-Size), or undefined
 * when it is absent or not digits alone: `Number()` would read an empty value as 0.
 */
export function headerInteger(response: ControlResponse, name: string): number | undefined {
  const value = response.headers.get(name)?.trim();
  if (value === undefined || !/^\d{1,16}$/.test(value)) return undefined;
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : undefined;
}

/** One tus upload of a session (the whole file, or one partial upload's range of it). */
export interface TusLaneState {
  url: string;
  start: number;
  end: number;
  /** The source's byte the server had reached when last asked. */
  offset: number;
}

export interface TusOffers {
  extensions: string[];
  checksums: string[];
  maxSize: number | undefined;
}

/** What the server offers (OPTIONS); a server that does not answer it is taken to offer core and creation only. */
export async function discover(ctx: PartsContext, settings: TusSettings): Promise<TusOffers> {
  const response = await ctx.request({
    step: 'start',
    url: settings.endpoint!,
    method: 'OPTIONS',
    headers: settings.headers,
  });
  if (!isSuccess(response.status)) return { extensions: ['creation'], checksums: [], maxSize: undefined };
  const list = (name: string) =>
    (response.headers.get(name) ?? '')
      .split(',')
      .map((item) => item.trim().toLowerCase())
      .filter((item) => item !== '');
  const versions = list('tus-version');
  if (versions.length > 0 && !versions.includes(TUS_VERSION))
    throw refused(
      'start',
      `the server speaks tus ${versions.join(', ')}, not ${TUS_VERSION}`,
      response,
      'ERR_START_FAILED',
      '',
    );
  const maxSize = headerInteger(response, 'tus-max-size');
  return {
    extensions: list('tus-extension'),
    checksums: list('tus-checksum-algorithm'),
    maxSize: maxSize !== undefined && maxSize > 0 ? maxSize : undefined,
  };
}

/**
 * The created upload's URL, from Location: relative to the URL that answered (RFC 9110), which is
 * not the endpoint once a redirect was followed; `base` when the answer names none.
 */
export function locationOf(response: ControlResponse, base: string, what: string): string {
  const location = response.headers.get('location');
  if (location === null || location === '') throw unexpected(what, response, 'the answer has no Location');
  try {
    const url = new URL(location, response.url || base);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
  } catch {
    // reported below
  }
  throw unexpected(what, response, `Location ${JSON.stringify(location)} is not an http(s) URL`);
}

/** A tus upload as a lane of PATCH requests, resumed by HEAD. */
export function tusLane(ctx: PartsContext, settings: TusSettings, state: TusState, index: number): OffsetLane {
  const lane = state.lanes[index]!;
  const offsetFrom = (response: ControlResponse, what: string): Outcome => {
    const offset = headerInteger(response, 'upload-offset');
    if (offset === undefined) throw unexpected(what, response, 'the answer has no valid Upload-Offset');
    return { offset: lane.start + offset };
  };
  return {
    lane: index,
    start: lane.start,
    end: lane.end,
    url: lane.url,
    async send(from, to) {
      const headers: Record<string, string> = {
        ...settings.headers,
        'upload-offset': String(from - lane.start),
        'content-type': 'application/offset+octet-stream',
      };
      if (state.checksum !== undefined) {
        const digest = await ctx.digest(from, to, state.checksum as DigestAlgorithm);
        headers['upload-checksum'] = `${state.checksum} ${digest.toString('base64')}`;
      }
      const piece = {
        lane: index,
        url: lane.url,
        method: 'PATCH',
        headers,
        start: from,
        end: to,
        retry: false,
        expectContinue: false,
      };
      const response = await ctx.send(piece);
      const what = `sending bytes ${from} to ${to} to ${lane.url}`;
      return isSuccess(response.status) ? offsetFrom(response, what) : failed(ctx, 'piece', what, response);
    },
    async query() {
      const response = await ctx.request({
        step: 'piece',
        url: lane.url,
        method: 'HEAD',
        headers: settings.headers,
        retry: false,
      });
      const what = `asking ${lane.url} for its offset`;
      return isSuccess(response.status) ? offsetFrom(response, what) : failed(ctx, 'piece', what, response);
    },
    record(offset) {
      lane.offset = offset;
    },
  };
}

/** A refused tus request: gone (404, 410, 403), a checksum mismatch (460), worth a retry (409, 423 and the policy's statuses) or final. */
function failed(ctx: PartsContext, step: Step, what: string, response: ControlResponse): Outcome {
  const { status } = response;
  if (GONE.has(status) || status === 403) throw refused(step, what, response, 'ERR_SESSION_EXPIRED');
  if (status === 460) throw refused(step, what, response, 'ERR_CHECKSUM_MISMATCH');
  if (status === 409 || status === 423 || ctx.policy.statusCodes.has(status)) {
    const retryAfter = parseRetryAfter(response.headers.get('retry-after') ?? undefined);
    return { retry: refused(step, what, response), status, ...(retryAfter === undefined ? {} : { retryAfter }) };
  }
  throw refused(step, what, response);
}
