import { DecodeError } from './errors.js';
import { checkDecodeOptions, decodeOptionsOf, type DecodeOptions } from './options.js';
import { parseMediaType } from '../common/media-type.js';
import { chunkSource, ownContentType, type ChunkSource, type DecodeSource } from './source.js';
import { decodeStart, type DecodeStart } from './start.js';

/** A Content-Range: the first and last byte (inclusive), and the whole resource's size when known. */
export interface ContentRange {
  start: number;
  end: number;
  size: number | undefined;
}

/** The body of a single-range answer, with what its headers say. */
export interface SingleRange {
  chunks: ChunkSource;
  range: ContentRange;
  contentType: string | undefined;
  headers: Headers;
}

/** What decodeByteRanges() reads, all checked: a multipart/byteranges body, or a single range. */
export type RangesStart =
  { multipart: DecodeStart; single?: undefined } | { multipart?: undefined; single: SingleRange };

/** Checks the answer given to decodeByteRanges() (its status, its type, its Content-Range) and its options. */
export function byteRangesStart(source: DecodeSource, options?: DecodeOptions): RangesStart {
  const checked = checkDecodeOptions(options);
  const status = statusOf(source);
  if (status !== undefined && status !== 206)
    throw new DecodeError('ERR_UNEXPECTED_STATUS', `the answer is ${status}, not 206 Partial Content`);
  const contentType = checked.contentType ?? ownContentType(source);
  const type = contentType === undefined ? '' : parseMediaType(contentType).essence;
  if (checked.boundary !== undefined || type.startsWith('multipart/'))
    return { multipart: decodeStart(source, decodeOptionsOf(checked)) };
  const range = headersOf(source)?.get('content-range');
  if (range === null || range === undefined)
    throw new DecodeError(
      'ERR_INVALID_CONTENT_TYPE',
      'the answer is neither multipart/byteranges nor has a Content-Range',
    );
  const single = {
    chunks: chunkSource(source),
    range: parseRange(range, 'the answer'),
    contentType,
    headers: headersOf(source) ?? new Headers(),
  };
  return { single };
}

function statusOf(source: unknown): number | undefined {
  const { status, statusCode } = source as { status?: unknown; statusCode?: unknown };
  if (typeof status === 'number') return status;
  return typeof statusCode === 'number' ? statusCode : undefined;
}

function headersOf(source: unknown): Headers | undefined {
  const { headers } = source as { headers?: unknown };
  if (typeof headers !== 'object' || headers === null) return undefined;
  if (typeof (headers as Headers).get === 'function') return headers as Headers;
  const result = new Headers();
  for (const [name, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) result.append(name, one);
  }
  return result;
}

export function parseRange(value: string | undefined, where: string): ContentRange {
  const match = value === undefined ? null : /^bytes\s+(\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)$/i.exec(value.trim());
  const [start, end, size] = match
    ? [Number(match[1]), Number(match[2]), match[3] === '*' ? undefined : Number(match[3])]
    : [];
  if (start === undefined || end === undefined || start > end || (size !== undefined && end >= size)) {
    throw new DecodeError(
      'ERR_MALFORMED_PART',
      `${where} has no valid Content-Range: ${JSON.stringify(value ?? null)}`,
    );
  }
  return { start, end, size };
}
