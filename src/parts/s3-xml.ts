import { lazily } from '../common/lazy.js';
import { messageOf } from '../common/messages.js';
import { visible } from '../common/visible.js';
import { PartsError } from './errors.js';

/** Loaded when an S3 answer is first read: code that never speaks S3 never pays for the parser. */
const xml = lazily<typeof import('fast-xml-parser')>('fast-xml-parser');

type Element = Record<string, unknown>;

/** S3's XML as nested objects of strings; `Part` elements always as a list. Unreadable XML is ERR_UNEXPECTED_RESPONSE. */
function parse(text: string, what: string): Element {
  try {
    const parser = new (xml().XMLParser)({
      ignoreAttributes: true,
      parseTagValue: false,
      removeNSPrefix: true,
      // Character references too (`&#38;`, `&#x26;`): XML allows them wherever a text is.
      htmlEntities: true,
      isArray: (name) => name === 'Part',
    });
    const parsed = parser.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null) return parsed as Element;
  } catch (cause) {
    throw new PartsError('ERR_UNEXPECTED_RESPONSE', `${what}: the answer is not XML: ${messageOf(cause)}`, { cause });
  }
  throw new PartsError('ERR_UNEXPECTED_RESPONSE', `${what}: the answer is not XML`);
}

function text(element: unknown, name: string): string | undefined {
  if (typeof element !== 'object' || element === null) return undefined;
  const value = (element as Element)[name];
  return typeof value === 'string' ? value : undefined;
}

function root(document: Element, name: string, what: string): Element {
  const element = document[name];
  if (typeof element === 'object' && element !== null) return element as Element;
  const error = s3Error(document);
  const why = error === undefined ? `no <${name}> in the answer` : `${error.code}: ${error.message}`;
  throw new PartsError('ERR_UNEXPECTED_RESPONSE', `${what}: ${why}`);
}

/** S3's `<Error><Code>...</Code><Message>...</Message></Error>`, if the text is one. */
export function s3ErrorOf(body: string): { code: string; message: string } | undefined {
  if (!body.includes('<Error')) return undefined;
  try {
    return s3Error(parse(body, 'error'));
  } catch {
    return undefined;
  }
}

function s3Error(document: Element): { code: string; message: string } | undefined {
  const error = document.Error;
  if (typeof error !== 'object' || error === null) return undefined;
  return { code: text(error, 'Code') ?? '', message: text(error, 'Message') ?? '' };
}

/** The UploadId of `InitiateMultipartUploadResult`. */
export function parseInitiate(body: string): string {
  const what = 'starting the multipart upload';
  const uploadId = text(root(parse(body, what), 'InitiateMultipartUploadResult', what), 'UploadId');
  if (uploadId === undefined || uploadId === '')
    throw new PartsError('ERR_UNEXPECTED_RESPONSE', `${what}: the answer has no UploadId`);
  return uploadId;
}

export interface ListedPart {
  partNumber: number;
  etag: string;
  size: number;
}

/** One page of `ListPartsResult`: its parts, and the marker of the next page when it is truncated. */
export function parseListParts(body: string): { parts: ListedPart[]; next: number | undefined } {
  const what = 'listing the parts';
  const result = root(parse(body, what), 'ListPartsResult', what);
  const parts: ListedPart[] = [];
  for (const part of (result.Part as unknown[] | undefined) ?? []) {
    const partNumber = Number(text(part, 'PartNumber'));
    const size = Number(text(part, 'Size'));
    const etag = text(part, 'ETag');
    if (!Number.isSafeInteger(partNumber) || !Number.isSafeInteger(size) || etag === undefined)
      throw new PartsError('ERR_UNEXPECTED_RESPONSE', `${what}: a <Part> lacks its PartNumber, Size or ETag`);
    parts.push({ partNumber, etag, size });
  }
  if (text(result, 'IsTruncated') !== 'true') return { parts, next: undefined };
  const next = Number(text(result, 'NextPartNumberMarker'));
  const last = parts.at(-1)?.partNumber;
  if (!Number.isSafeInteger(next) || last === undefined || next < last)
    throw new PartsError('ERR_UNEXPECTED_RESPONSE', `${what}: a truncated list without a NextPartNumberMarker past it`);
  return { parts, next };
}

/** `CompleteMultipartUploadResult` (S3 may answer 200 with an `<Error>` when completing fails late). */
export function parseComplete(body: string): { location: string | undefined; etag: string | undefined } {
  const what = 'completing the multipart upload';
  const document = parse(body, what);
  const error = s3Error(document);
  if (error !== undefined)
    throw new PartsError(
      'ERR_COMPLETE_FAILED',
      `${what}: the server answered ${visible(`${error.code}: ${error.message}`)}`,
    );
  const result = root(document, 'CompleteMultipartUploadResult', what);
  return { location: text(result, 'Location'), etag: text(result, 'ETag') };
}

export interface CompletedPart {
  PartNumber: number;
  ETag: string;
  ChecksumCRC32?: string;
  ChecksumSHA256?: string;
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

function escape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => escapes[c]!);
}

/** The body of CompleteMultipartUpload, parts in ascending order. */
export function completeXml(parts: readonly CompletedPart[]): string {
  const lines = parts.map((part) => {
    const checksums = (['ChecksumCRC32', 'ChecksumSHA256'] as const)
      .filter((name) => part[name] !== undefined)
      .map((name) => `<${name}>${escape(part[name]!)}</${name}>`)
      .join('');
    return `<Part><PartNumber>${part.PartNumber}</PartNumber><ETag>${escape(part.ETag)}</ETag>${checksums}</Part>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${lines.join('')}</CompleteMultipartUpload>`;
}
