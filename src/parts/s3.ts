import { checkFunction, checkOptionKeys, checkString, describe } from '../common/validate.js';
import { partsOptionError as fail, PartsError } from './errors.js';
import { callerValue, checkUrl, GONE, isSuccess, refused } from './answers.js';
import { makeProtocol, type PartsContext, type PartsProtocol } from './protocol.js';
import { checkHeaders, checkUrlOption, describeUrl } from './protocol-options.js';
import { completeXml, parseComplete, parseInitiate, type CompletedPart } from './s3-xml.js';
import { listParts, partCount, s3Detail, sendPart, type S3State } from './s3-parts.js';

type MaybePromise<T> = T | Promise<T>;
type UrlOf<A extends unknown[]> = (...args: A) => MaybePromise<string | URL>;

export interface S3PartsOptions {
  /** Starts the upload: a presigned `POST ?uploads` URL (its InitiateMultipartUploadResult is read), or your own function (an SDK call) returning the UploadId. */
  start?: string | URL | (() => MaybePromise<string>);
  /** An upload started elsewhere: its UploadId (no start request is sent). */
  uploadId?: string;
  /** The URL to PUT part `partNumber` (from 1) to, presigned for that part (and for `checksum`, its header's value, when one is sent). */
  partUrl: (
    partNumber: number,
    part: { uploadId: string; size: number; checksum: string | undefined },
  ) => MaybePromise<string | URL>;
  /** A presigned `GET ?uploadId=ID` (ListParts), from `partNumberMarker` on: what the server holds, asked when resuming. */
  listUrl?: UrlOf<[uploadId: string, partNumberMarker: number | undefined]>;
  /** A presigned `POST ?uploadId=ID`: CompleteMultipartUpload is sent. Without it, the parts are returned for you to complete. */
  completeUrl?: UrlOf<[uploadId: string]>;
  /** A presigned `DELETE ?uploadId=ID` (AbortMultipartUpload): the abandon step. */
  abortUrl?: UrlOf<[uploadId: string]>;
  /** Headers sent with every request (those the URLs were signed with). */
  headers?: Record<string, string>;
  /** A checksum header with each part: `Content-MD5`, or `x-amz-checksum-crc32` / `-sha256` (each part is read once more before it is sent). */
  checksum?: 'md5' | 'crc32' | 'sha256';
  /** Checks each part's ETag against the MD5 of the bytes sent (default true; false for SSE-C or SSE-KMS, whose ETags are not MD5s). */
  verifyETag?: boolean;
  /** Names the object in the session store (default: the start URL without its query); needed to resume when `start` is a function. */
  key?: string;
}

export interface S3PartsResult {
  uploadId: string;
  /** The parts in order, as CompleteMultipartUpload (and the AWS SDK) take them. */
  parts: CompletedPart[];
  /** True when `completeUrl` was given and S3 completed the upload. */
  completed: boolean;
  /** CompleteMultipartUploadResult's Location and ETag (the object's), when completed. */
  location: string | undefined;
  etag: string | undefined;
  size: number;
  /** Bytes the server already held when this call began (a resumed session). */
  resumedBytes: number;
}

const KEYS = [
  'start',
  'uploadId',
  'partUrl',
  'listUrl',
  'completeUrl',
  'abortUrl',
  'headers',
  'checksum',
  'verifyETag',
  'key',
];
const MiB = 1024 * 1024;
const MAX_PARTS = 10_000;
const MAX_PART_SIZE = 5 * 1024 * MiB;
const DEFAULT_PART_SIZE = 8 * MiB;

/** S3's multipart upload with presigned URLs (or your own start step): parts in parallel, each's MD5 checked against its ETag. */
export function s3Parts(options: S3PartsOptions): PartsProtocol<S3PartsResult> {
  const given = checkOptionKeys(options, KEYS, fail, 's3Parts options');
  checkFunction(given.partUrl, 's3Parts partUrl', fail);
  if (given.partUrl === undefined) throw fail('s3Parts needs partUrl: (partNumber, { uploadId }) => presigned URL');
  for (const name of ['listUrl', 'completeUrl', 'abortUrl'] as const)
    checkFunction(given[name], `s3Parts ${name}`, fail);
  if ((given.start === undefined) === (given.uploadId === undefined))
    throw fail('s3Parts needs either start (a URL or a function) or uploadId, not both');
  if (typeof given.start !== 'function' && given.start !== undefined) checkUrlOption(given.start, 's3Parts start');
  if (checkString(given.uploadId, 's3Parts uploadId', fail) === '') throw fail('s3Parts uploadId is empty');
  if (given.checksum !== undefined && !['md5', 'crc32', 'sha256'].includes(given.checksum))
    throw fail(`s3Parts checksum must be 'md5', 'crc32' or 'sha256', not ${describe(given.checksum)}`);
  if (given.verifyETag !== undefined && typeof given.verifyETag !== 'boolean')
    throw fail(`s3Parts verifyETag must be true or false, not ${describe(given.verifyETag)}`);
  checkString(given.key, 's3Parts key', fail);
  const settings = { ...given, headers: checkHeaders(given.headers, 's3Parts headers') };
  const target =
    given.key ??
    (given.uploadId !== undefined
      ? `uploadId ${given.uploadId}`
      : typeof given.start === 'function'
        ? undefined
        : describeUrl(given.start!));
  return makeProtocol<S3PartsResult, S3State>({
    name: 's3',
    target,
    partSize: choosePartSize,
    lanes: (concurrency) => concurrency,
    begin: (ctx) => begin(ctx, settings),
    resume: (ctx, state) => resume(ctx, settings, state),
    work: (ctx, state) => missing(ctx, state).map((n) => () => sendPart(ctx, settings, state, n)),
    finish: (ctx, state) => finish(ctx, settings, state),
    abandon: (ctx, state) => abandon(ctx, settings, state),
    stored: (state) =>
      Object.entries(state.parts)
        .map(([n, part]) => ({
          partNumber: Number(n),
          etag: part.etag,
          start: part.start,
          end: part.start + part.size,
        }))
        .sort((a, b) => a.partNumber - b.partNumber),
    sessionId: (state) => state.uploadId,
    isState,
  });
}

export type S3Settings = S3PartsOptions & { headers: Record<string, string> };

function choosePartSize(size: number, requested: number | undefined): number {
  if (requested === undefined) return Math.max(DEFAULT_PART_SIZE, Math.ceil(size / MAX_PARTS / MiB) * MiB);
  if (requested > MAX_PART_SIZE) throw fail(`partSize must be at most 5 GiB for S3, not ${requested}`);
  if (Math.ceil(size / requested) > MAX_PARTS)
    throw fail(`${size} bytes in parts of ${requested} make more than S3's ${MAX_PARTS} parts; use a larger partSize`);
  return requested;
}

function isState(value: unknown): value is S3State {
  const state = value as S3State;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof state.uploadId === 'string' &&
    typeof state.parts === 'object' &&
    state.parts !== null
  );
}

function missing(ctx: PartsContext, state: S3State): number[] {
  const numbers: number[] = [];
  for (let n = 1; n <= partCount(ctx); n++) if (state.parts[n] === undefined) numbers.push(n);
  return numbers;
}

async function begin(ctx: PartsContext, settings: S3Settings): Promise<S3State> {
  if (settings.uploadId !== undefined) return { uploadId: settings.uploadId, parts: {} };
  const { start } = settings;
  if (typeof start === 'function') {
    const uploadId = await callerValue('s3Parts start', start);
    if (typeof uploadId !== 'string' || uploadId === '')
      throw new PartsError('ERR_INVALID_VALUE', `s3Parts start must give the UploadId, not ${describe(uploadId)}`);
    return { uploadId, parts: {} };
  }
  const algorithm: Record<string, string> =
    settings.checksum === 'md5' || settings.checksum === undefined
      ? {}
      : { 'x-amz-checksum-algorithm': settings.checksum.toUpperCase() };
  const response = await ctx.request({
    step: 'start',
    url: start!,
    method: 'POST',
    headers: { ...settings.headers, ...algorithm },
  });
  if (!isSuccess(response.status))
    throw refused('start', 'starting the multipart upload', response, undefined, s3Detail(response.text));
  return { uploadId: parseInitiate(response.text), parts: {} };
}

/** Keeps the parts the server lists with the ETag this session recorded (anything else is sent again); false when the upload is gone. */
async function resume(ctx: PartsContext, settings: S3Settings, state: S3State): Promise<boolean> {
  if (settings.listUrl !== undefined) {
    const listed = await listParts(ctx, settings, state.uploadId, 'resume');
    if (listed === undefined) return false;
    for (const [n, part] of Object.entries(state.parts)) {
      const there = listed.get(Number(n));
      if (there === undefined || there.etag !== part.etag || there.size !== part.size) delete state.parts[Number(n)];
    }
  }
  for (const [n, part] of Object.entries(state.parts)) ctx.confirm(Number(n), part.size);
  return true;
}

async function finish(ctx: PartsContext, settings: S3Settings, state: S3State): Promise<S3PartsResult> {
  const parts = completedParts(ctx, state);
  const result = {
    uploadId: state.uploadId,
    parts,
    completed: false,
    location: undefined as string | undefined,
    etag: undefined as string | undefined,
    size: ctx.size,
    resumedBytes: ctx.resumedBytes,
  };
  if (settings.completeUrl === undefined) return result;
  let response = await complete(ctx, settings, state);
  if (response.status === 400 && /InvalidPart/.test(response.text) && settings.listUrl !== undefined) {
    // The server lost a part it had stored: send again what it no longer lists, then complete once more.
    if (await recoverLostParts(ctx, settings, state)) response = await complete(ctx, settings, state);
  }
  if (GONE.has(response.status))
    throw refused(
      'complete',
      'completing the multipart upload',
      response,
      'ERR_SESSION_EXPIRED',
      s3Detail(response.text),
    );
  if (!isSuccess(response.status))
    throw refused('complete', 'completing the multipart upload', response, undefined, s3Detail(response.text));
  const { location, etag } = parseComplete(response.text);
  return { ...result, parts: completedParts(ctx, state), completed: true, location, etag };
}

async function complete(ctx: PartsContext, settings: S3Settings, state: S3State) {
  const url = checkUrl(
    await callerValue('s3Parts completeUrl', () => settings.completeUrl!(state.uploadId)),
    'completeUrl',
  );
  return ctx.request({
    step: 'complete',
    url,
    method: 'POST',
    headers: { ...settings.headers, 'content-type': 'application/xml' },
    body: completeXml(completedParts(ctx, state)),
    repeatable: true,
  });
}

async function recoverLostParts(ctx: PartsContext, settings: S3Settings, state: S3State): Promise<boolean> {
  const listed = await listParts(ctx, settings, state.uploadId, 'complete');
  if (listed === undefined) return false;
  const lost = Object.keys(state.parts)
    .map(Number)
    .filter((n) => listed.get(n)?.etag !== state.parts[n]!.etag);
  if (lost.length === 0) return false;
  for (const n of lost) delete state.parts[n];
  for (const n of lost) await sendPart(ctx, settings, state, n);
  return true;
}

function completedParts(ctx: PartsContext, state: S3State): CompletedPart[] {
  const parts: CompletedPart[] = [];
  for (let n = 1; n <= partCount(ctx); n++) {
    const part = state.parts[n];
    if (part === undefined) throw new PartsError('ERR_PIECE_FAILED', `part ${n} was never stored`);
    const field = checksumField(part.algorithm);
    const checksum = part.checksum === undefined || field === undefined ? {} : { [field]: part.checksum };
    parts.push({ PartNumber: n, ETag: part.etag, ...checksum });
  }
  return parts;
}

function checksumField(algorithm: string | undefined): 'ChecksumCRC32' | 'ChecksumSHA256' | undefined {
  return algorithm === 'crc32' ? 'ChecksumCRC32' : algorithm === 'sha256' ? 'ChecksumSHA256' : undefined;
}

async function abandon(ctx: PartsContext, settings: S3Settings, state: S3State): Promise<void> {
  if (settings.abortUrl === undefined)
    throw new PartsError(
      'ERR_INVALID_OPTION',
      's3Parts has no abortUrl: the stored parts stay until the upload is aborted',
    );
  const url = checkUrl(await callerValue('s3Parts abortUrl', () => settings.abortUrl!(state.uploadId)), 'abortUrl');
  const response = await ctx.request({ step: 'abandon', url, method: 'DELETE', headers: settings.headers });
  if (!isSuccess(response.status) && !GONE.has(response.status))
    throw refused('abandon', 'aborting the multipart upload', response, undefined, s3Detail(response.text));
}
