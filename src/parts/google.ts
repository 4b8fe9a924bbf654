import { messageOf } from '../common/messages.js';
import { checkOptionKeys, checkString, describe } from '../common/validate.js';
import { deferredSteps, protocolSteps } from './deferred.js';
import { partsOptionError as fail } from './errors.js';
import { makeProtocol, type PartsContext, type PartsProtocol } from './protocol.js';
import { checkHeaders, checkUrlOption, destinationOf } from './protocol-options.js';
import { acceptsPartSize, isCount, isHttpUrl, isRecord } from './saved-state.js';

type MaybePromise<T> = T | Promise<T>;

export interface GoogleResumableOptions {
  /** Starts a session: the `uploadType=resumable` URL (POSTed, with `metadata` as JSON), or your own function giving the session URI. */
  start?: string | URL | (() => MaybePromise<string | URL>);
  /** A session started elsewhere: its URI. */
  sessionUrl?: string | URL;
  /** The resource's metadata (Drive: `{ name, parents }`; Cloud Storage: `{ name, contentType }`), sent when starting. */
  metadata?: Record<string, unknown>;
  /** `X-Upload-Content-Type` when starting: the media's type. */
  contentType?: string;
  /** Headers sent with every request (Authorization...). */
  headers?: Record<string, string>;
  /**
   * Names the destination in the session store (default: the start URL, or `sessionUrl`, with its
   * query but for the parameters that sign it or carry credentials, and the metadata).
   */
  key?: string;
}

export interface GoogleResumableResult {
  /** The session URI. */
  url: string;
  /** The final answer (200 or 201) and its body: the resource's metadata, as JSON text. */
  status: number;
  body: string;
  size: number;
  /** Bytes the server already held when this call began (a resumed session). */
  resumedBytes: number;
}

export interface GoogleState {
  url: string;
  offset: number;
  /** The final answer, once the server has the whole file. */
  final: { status: number; body: string } | undefined;
}

const KEYS = ['start', 'sessionUrl', 'metadata', 'contentType', 'headers', 'key'];
/** Google takes pieces in multiples of 256 KiB (all but the last). */
export const GOOGLE_CHUNK = 256 * 1024;
const DEFAULT_PART_SIZE = 32 * GOOGLE_CHUNK;

/** The metadata as the JSON the session is started with: what JSON cannot hold (a cycle, a BigInt) is the option's error. */
function metadataJson(metadata: object): string | undefined {
  try {
    return JSON.stringify(metadata);
  } catch (cause) {
    throw fail(`googleResumable metadata cannot be written as JSON: ${messageOf(cause)}`);
  }
}

/** Google's resumable uploads (Drive, Cloud Storage): a session URI, `Content-Range` pieces, `308` with `Range`, the status query (`bytes *` and the size). */
export function googleResumable(options: GoogleResumableOptions): PartsProtocol<GoogleResumableResult> {
  const given = checkOptionKeys(options, KEYS, fail, 'googleResumable options');
  if ((given.start === undefined) === (given.sessionUrl === undefined))
    throw fail('googleResumable needs either start (a URL or a function) or sessionUrl, not both');
  if (typeof given.start !== 'function' && given.start !== undefined)
    checkUrlOption(given.start, 'googleResumable start');
  if (given.sessionUrl !== undefined) checkUrlOption(given.sessionUrl, 'googleResumable sessionUrl');
  if (given.metadata !== undefined && (typeof given.metadata !== 'object' || given.metadata === null))
    throw fail(`googleResumable metadata must be an object, not ${describe(given.metadata)}`);
  const metadata = given.metadata === undefined ? undefined : metadataJson(given.metadata);
  checkString(given.contentType, 'googleResumable contentType', fail);
  checkString(given.key, 'googleResumable key', fail);
  const settings: GoogleSettings = {
    ...given,
    metadata,
    headers: checkHeaders(given.headers, 'googleResumable headers'),
  };
  const place = given.sessionUrl ?? (typeof given.start === 'function' ? undefined : given.start);
  const target = given.key ?? (place === undefined ? undefined : `${destinationOf(place)} ${metadata ?? ''}`);
  return makeProtocol<GoogleResumableResult, GoogleState>({
    name: 'google-resumable',
    target,
    partSize: choosePartSize,
    lanes: () => 1,
    ...deferredSteps(async () => (await protocolSteps()).google, settings, pieceLeft),
    stored: (state) => (state.offset > 0 ? [{ start: 0, end: state.offset }] : []),
    sessionId: (state) => state.url,
    isState: (value): value is GoogleState =>
      isRecord(value) &&
      isHttpUrl(value.url) &&
      isCount(value.offset) &&
      (value.final === undefined ||
        (isRecord(value.final) && isCount(value.final.status) && typeof value.final.body === 'string')),
    fits: (state, size, partSize) => acceptsPartSize(choosePartSize, size, partSize) && state.offset <= size,
  });
}

export type GoogleSettings = Omit<GoogleResumableOptions, 'metadata'> & {
  metadata: string | undefined;
  headers: Record<string, string>;
};

function choosePartSize(_size: number, requested: number | undefined): number {
  if (requested === undefined) return DEFAULT_PART_SIZE;
  if (requested % GOOGLE_CHUNK !== 0)
    throw fail(`partSize must be a multiple of 256 KiB (262144) for Google's resumable uploads, not ${requested}`);
  return requested;
}

/** The one lane (0) when bytes are left to send: it goes on from the offset the state holds when it runs. */
function pieceLeft(ctx: PartsContext, state: GoogleState): number[] {
  return state.final !== undefined || state.offset >= ctx.size ? [] : [0];
}
