import { checkOptionKeys, describe } from '../common/validate.js';
import { deferredSteps, protocolSteps } from './deferred.js';
import { partsOptionError as fail } from './errors.js';
import { makeProtocol, type PartsContext, type PartsProtocol } from './protocol.js';
import { checkHeaders, checkUrlOption, describeUrl } from './protocol-options.js';
import type { TusLaneState } from './tus-requests.js';
import { isCount, isHttpUrl, isOptionalString, isRecord } from './saved-state.js';

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
export const WHOLE_LANE = 2 ** 52;
/** Without a partSize, partial uploads (concatenation) of at least this size each. */
export const SMALLEST_PARTIAL = 64 * 1024 * 1024;
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
    target: targetOf(url, given.metadata),
    partSize: (_size, requested) => requested ?? WHOLE_LANE,
    lanes: (concurrency) => concurrency,
    ...deferredSteps(async () => (await protocolSteps()).tus, settings, lanesLeft),
    stored: (state) =>
      state.lanes.filter((lane) => lane.offset > lane.start).map((lane) => ({ start: lane.start, end: lane.offset })),
    sessionId: (state) => state.final ?? state.lanes.map((lane) => lane.url).join(' '),
    isState: isTusState,
    fits: (state, size) =>
      (state.concat || state.lanes.length === 1) &&
      new Set(state.lanes.map((lane) => lane.url)).size === state.lanes.length &&
      state.lanes.every((lane, i) => lane.start === (i === 0 ? 0 : state.lanes[i - 1]!.end)) &&
      state.lanes.at(-1)!.end === size,
  });
}

/** The destination in the session store: the URL and the metadata, which may name the file (sorted: its order says nothing). */
function targetOf(url: URL, metadata: Record<string, string> | undefined): string {
  const pairs = Object.entries(metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return pairs.length === 0 ? describeUrl(url) : `${describeUrl(url)} ${JSON.stringify(pairs)}`;
}

function isTusState(value: unknown): value is TusState {
  return (
    isRecord(value) &&
    Array.isArray(value.lanes) &&
    value.lanes.length > 0 &&
    value.lanes.every(
      (lane: unknown) =>
        isRecord(lane) &&
        isHttpUrl(lane.url) &&
        isCount(lane.start) &&
        isCount(lane.end) &&
        isCount(lane.offset) &&
        lane.start <= lane.offset &&
        lane.offset <= lane.end,
    ) &&
    (value.final === undefined || isHttpUrl(value.final)) &&
    (value.finalRequested === undefined || typeof value.finalRequested === 'boolean') &&
    typeof value.concat === 'boolean' &&
    isOptionalString(value.checksum)
  );
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

/** A lane with bytes left to send: its index, and the offset it goes on from. */
export interface LaneLeft {
  index: number;
  offset: number;
}

function lanesLeft(_ctx: PartsContext, state: TusState): LaneLeft[] {
  const left: LaneLeft[] = [];
  for (const [index, lane] of state.lanes.entries())
    if (lane.offset < lane.end) left.push({ index, offset: lane.offset });
  return left;
}
