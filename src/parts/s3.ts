import { checkFunction, checkOptionKeys, checkString, describe } from '../common/validate.js';
import { deferredSteps, protocolSteps } from './deferred.js';
import { partsOptionError as fail } from './errors.js';
import { makeProtocol, type PartsContext, type PartsProtocol } from './protocol.js';
import { checkHeaders, checkUrlOption, describeUrl } from './protocol-options.js';
import type { S3State } from './s3-parts.js';
import type { CompletedPart } from './s3-xml.js';
import { acceptsPartSize, isCount, isOptionalString, isRecord } from './saved-state.js';

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
    ...deferredSteps(async () => (await protocolSteps()).s3, settings, missing),
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
    fits,
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
  if (!isRecord(value) || typeof value.uploadId !== 'string' || value.uploadId === '' || !isRecord(value.parts))
    return false;
  return Object.entries(value.parts).every(
    ([n, part]) =>
      /^[1-9]\d{0,4}$/.test(n) &&
      isRecord(part) &&
      isCount(part.start) &&
      isCount(part.size) &&
      typeof part.etag === 'string' &&
      isOptionalString(part.checksum) &&
      isOptionalString(part.algorithm),
  );
}

/** Every stored part is one of this plan's: its number within the count, its bytes where the plan puts them. */
function fits(state: S3State, size: number, partSize: number): boolean {
  if (!acceptsPartSize(choosePartSize, size, partSize)) return false;
  const plan = { size, partSize };
  return Object.entries(state.parts).every(([key, part]) => {
    const n = Number(key);
    if (n > partCount(plan)) return false;
    const { start, end } = partRange(n, plan);
    return part.start === start && part.size === end - start;
  });
}

function missing(ctx: PartsContext, state: S3State): number[] {
  const numbers: number[] = [];
  for (let n = 1; n <= partCount(ctx); n++) if (state.parts[n] === undefined) numbers.push(n);
  return numbers;
}

/** A source's size and the size of its parts (a PartsContext is one). */
interface PartPlan {
  size: number;
  partSize: number;
}

/** How many parts a source of `size` bytes makes (one for an empty source). */
export function partCount({ size, partSize }: PartPlan): number {
  return Math.max(1, Math.ceil(size / partSize));
}

/** Part n's bytes, `start` to `end` (the last part ends with the source). */
export function partRange(n: number, plan: PartPlan): { start: number; end: number } {
  const start = (n - 1) * plan.partSize;
  return { start, end: n === partCount(plan) ? plan.size : start + plan.partSize };
}
