import { BodyReader, type PartBody } from './body.js';
import { decoderOver } from './decode.js';
import { DecodeError } from './errors.js';
import type { DecodeOptions } from './options.js';
import type { DecodedPart } from './part.js';
import { byteRangesStart, parseRange, type ContentRange, type RangesStart } from './ranges-start.js';
import type { ChunkSource, DecodeSource } from './source.js';
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
  /**
   * The range's bytes, streamed; ERR_MALFORMED_PART at its end if it holds fewer than end - start + 1
   * bytes, and at the first piece that would take it past them (none of that piece is given out).
   */
  body: PartBody;
}

/** decodeByteRanges() with the parser loaded (the public one, in deferred.ts, loads it on its first call). */
export function decodeByteRanges(source: DecodeSource, options?: DecodeOptions): AsyncIterableIterator<ByteRange> {
  return rangesOf(byteRangesStart(source, options));
}

/** The ranges from a checked start: the public decodeByteRanges() reads them once this module is loaded. */
export function rangesOf(start: RangesStart): AsyncIterableIterator<ByteRange> {
  if (start.multipart !== undefined) return multipartRanges(decoderOver(start.multipart));
  const { chunks, range, contentType, headers } = start.single;
  return singleRange(chunks, range, contentType, headers);
}

/**
 * A range's length, checked as it streams: a caller writing the range at its offset must never be
 * handed a byte past its end, so a body that runs on is refused before that byte, not at its end.
 */
const lengthCheck = (where: string, expected: number) => (total: number, ended: boolean) => {
  if (total > expected)
    throw new DecodeError(
      'ERR_MALFORMED_PART',
      `${where} holds more than the ${expected} bytes its Content-Range says (${total} so far)`,
    );
  if (ended && total !== expected)
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
  { start, end, size }: ContentRange,
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
