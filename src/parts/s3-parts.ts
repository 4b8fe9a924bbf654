import { PartsError } from './errors.js';
import { callerValue, checkUrl, GONE, isSuccess, refused, unexpected } from './answers.js';
import type { PartsContext, Step } from './protocol.js';
import { parseListParts, s3ErrorOf, type ListedPart } from './s3-xml.js';
import { partRange, type S3Settings } from './s3.js';

export interface StoredPart {
  start: number;
  size: number;
  etag: string;
  /** The checksum header's value sent with it (base64), and its algorithm. */
  checksum?: string;
  algorithm?: string;
}

/** What an S3 session keeps: the UploadId, and each part stored with the ETag it was checked against. */
export interface S3State {
  uploadId: string;
  parts: Record<number, StoredPart>;
}

/** A ListParts page holds 1,000 parts; S3 allows 10,000, so more pages than this is a server that never stops. */
const MAX_LIST_PAGES = 11;
const LIST_LIMIT = 4 * 1024 * 1024;
const CHECKSUM_HEADERS = { md5: 'content-md5', crc32: 'x-amz-checksum-crc32', sha256: 'x-amz-checksum-sha256' };

/** Sends part `n` and records it once its ETag matches the MD5 of the bytes that went out. */
export async function sendPart(ctx: PartsContext, settings: S3Settings, state: S3State, n: number): Promise<void> {
  const { start, end } = partRange(n, ctx);
  const algorithm = settings.checksum;
  const checksum = algorithm === undefined ? undefined : (await ctx.digest(start, end, algorithm)).toString('base64');
  const info = { uploadId: state.uploadId, size: end - start, checksum };
  const url = checkUrl(await callerValue('s3Parts partUrl', () => settings.partUrl(n, info), ctx.signal), 'partUrl');
  const headers = {
    ...settings.headers,
    ...(algorithm && checksum ? { [CHECKSUM_HEADERS[algorithm]]: checksum } : {}),
  };
  const verify = settings.verifyETag !== false;
  const response = await ctx.send({
    lane: n,
    url,
    method: 'PUT',
    headers,
    start,
    end,
    md5: verify,
    retry: true,
    successBodyUnused: true,
  });
  const what = `part ${n}`;
  if (!isSuccess(response.status)) {
    const detail = s3Detail(response.text);
    const code = GONE.has(response.status)
      ? 'ERR_SESSION_EXPIRED'
      : /^(BadDigest|InvalidDigest|XAmzContentChecksumMismatch|InvalidChecksum)/.test(detail ?? '')
        ? 'ERR_CHECKSUM_MISMATCH'
        : 'ERR_PIECE_FAILED';
    throw refused('piece', what, response, code, detail);
  }
  const etag = response.headers.get('etag');
  if (etag === null || etag === '') throw unexpected(what, response, 'the answer has no ETag');
  if (verify) {
    const md5 = response.md5?.toString('hex');
    if (md5 === undefined) throw unexpected(what, response, 'the server answered before the whole part was sent');
    if (etag.replace(/^(W\/)?"|"$/g, '').toLowerCase() !== md5) {
      throw new PartsError(
        'ERR_CHECKSUM_MISMATCH',
        `${what}: the server's ETag ${etag} is not the MD5 of the bytes sent (${md5}); the part is not used`,
        { status: response.status, url: response.url },
      );
    }
  }
  state.parts[n] = { start, size: end - start, etag, ...(checksum === undefined ? {} : { checksum, algorithm }) };
  ctx.confirm(n, end - start);
  await ctx.save();
}

/**
 * Whether two ETags name the same part, as S3 clients compare them: without the quotes around
 * them, which ListParts may leave out where the PUT's answer had them, or a weak `W/` prefix.
 */
export function sameETag(a: string, b: string): boolean {
  const bare = (etag: string) =>
    etag
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1');
  return bare(a) === bare(b);
}

/** Every part the server lists (all pages), or undefined when the upload is gone (NoSuchUpload). */
export async function listParts(
  ctx: PartsContext,
  settings: S3Settings,
  uploadId: string,
  step: Step,
): Promise<Map<number, ListedPart> | undefined> {
  const listed = new Map<number, ListedPart>();
  let marker: number | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const url = checkUrl(
      await callerValue('s3Parts listUrl', () => settings.listUrl!(uploadId, marker), ctx.signal),
      'listUrl',
    );
    const response = await ctx.request({ step, url, method: 'GET', headers: settings.headers, limit: LIST_LIMIT });
    if (GONE.has(response.status)) return undefined;
    if (!isSuccess(response.status))
      throw refused(step, 'listing the parts', response, undefined, s3Detail(response.text));
    const { parts, next } = parseListParts(response.text);
    for (const part of parts) listed.set(part.partNumber, part);
    if (next === undefined) return listed;
    // A page whose marker does not move past the last one's: its listing URL ignores the marker.
    if (marker !== undefined && next <= marker)
      throw new PartsError(
        'ERR_UNEXPECTED_RESPONSE',
        `listing the parts: the page after part ${marker} ends at part ${next}: the listing URL does not follow part-number-marker`,
        { url },
      );
    marker = next;
  }
  throw new PartsError('ERR_UNEXPECTED_RESPONSE', `listing the parts: more than ${MAX_LIST_PAGES} pages`);
}

/** S3's error code and message, for an error message. */
export function s3Detail(body: string): string | undefined {
  const error = s3ErrorOf(body);
  return error === undefined ? undefined : `${error.code}: ${error.message}`;
}
