import { BodyReader, type PartBody } from './body.js';
import { multipartDecode } from './decode.js';
import { DecodeError } from './errors.js';
import { checkDecodeOptions, decodeOptionsOf, type DecodeOptions } from './options.js';
import { parseMediaType } from '../common/media-type.js';
import type { DecodedPart } from './part.js';
import { chunkSource, ownContentType, type ChunkSource, type DecodeSource } from './source.js';
import { messageOf } from '../common/messages.js';

/** One range of a 206 answer. */
export interface ByteRange {
  /** The first byte's position in the whole resource. */
  start: number;
  /** The last byte's position, inclusive, as Content-Range writes it: the body holds end - start + 1 bytes. */
  end: number;
  /** The whole resource's size, or undefined when the server wrote `*`. */
  size: number | undefined;
  contentType: string | undefined;
  headers: Headers;
  /** The range's bytes, streamed; ERR_MALFORMED_PART at its end if it does not hold end - start + 1 bytes. */
  body: PartBody;
}

/**
 * The ranges of a 206 Partial Content answer: each part of a multipart/byteranges body, or the
 * whole body of a single-range answer (its own Content-Range). Anything but a 206 is
 * ERR_UNEXPECTED_STATUS (a 200 means the server sent the whole resource instead).
 */
export function decodeByteRanges(source: DecodeSource, options?: DecodeOptions): AsyncIterableIterator<ByteRange> {
  const checked = checkDecodeOptions(options);
  const status = statusOf(source);
  if (status !== undefined && status !== 206)
    throw new DecodeError('ERR_UNEXPECTED_STATUS', `the answer is ${status}, not 206 Partial Content`);
  const contentType = checked.contentType ?? ownContentType(source);
  const type = contentType === undefined ? '' : parseMediaType(contentType).essence;
  if (checked.boundary !== undefined || type.startsWith('multipart/'))
    return multipartRanges(multipartDecode(source, decodeOptionsOf(checked)));
  const range = headersOf(source)?.get('content-range');
  if (range === null || range === undefined)
    throw new DecodeError(
      'ERR_INVALID_CONTENT_TYPE',
      'the answer is neither multipart/byteranges nor has a Content-Range',
    );
  return singleRange(
    chunkSource(source),
    parseRange(range, 'the answer'),
    contentType,
    headersOf(source) ?? new Headers(),
  );
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

function parseRange(
  value: string | undefined,
  where: string,
): { start: number; end: number; size: number | undefined } {
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

const lengthCheck = (where: string, expected: number) => (total: number) => {
  if (total !== expected)
    throw new DecodeError(
      'ERR_MALFORMED_PART',
      `${where} holds ${total} bytes, and its Content-Range says ${expected}`,
    );
};

async function* multipartRanges(parts: AsyncIterableIterator<DecodedPart>): AsyncGenerator<ByteRange, void, undefined> {
  try {
    for await (const part of parts) {
      const where = `part ${part.index + 1}`;
      const header = part.rawHeaders.find(([name]) => name.toLowerCase() === 'content-range')?.[1];
      const { start, end, size } = parseRange(header, where);
      let iterator: AsyncIterator<Buffer> | undefined;
      const pull = async () => {
        iterator ??= part[Symbol.asyncIterator]();
        const step = await iterator.next();
        return step.done ? null : step.value;
      };
      yield {
        start,
        end,
        size,
        contentType: part.contentType,
        headers: part.headers,
        body: new BodyReader({ readPiece: pull }, 0, lengthCheck(where, end - start + 1)),
      };
    }
  } finally {
    await parts.return?.();
  }
}

async function* singleRange(
  chunks: ChunkSource,
  { start, end, size }: ReturnType<typeof parseRange>,
  contentType: string | undefined,
  headers: Headers,
): AsyncGenerator<ByteRange, void, undefined> {
  let read = 0;
  const pull = async () => {
    try {
      const chunk = await chunks.read();
      read += chunk?.length ?? 0;
      return chunk;
    } catch (cause) {
      if (cause instanceof DecodeError) throw cause;
      throw new DecodeError('ERR_SOURCE_FAILED', `the source failed: ${messageOf(cause)}`, { offset: read, cause });
    }
  };
  try {
    yield {
      start,
      end,
      size,
      contentType,
      headers,
      body: new BodyReader({ readPiece: pull }, 0, lengthCheck('the answer', end - start + 1)),
    };
  } finally {
    await chunks.close();
  }
}
