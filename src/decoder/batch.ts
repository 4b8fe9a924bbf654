import { DecodeError } from './errors.js';
import { decoderOver, multipartDecode, type MultipartDecoder } from './decode.js';
import { DEFAULT_LIMITS, type DecodeOptions } from './options.js';
import { batchStart, type BatchStart } from './batch-start.js';
import { parseHttpResponse, type HeadLimits } from './http-message.js';
import { parseMediaType } from '../common/media-type.js';
import type { DecodedPart } from './part.js';
import type { DecodeSource } from './source.js';

/** One answer of a batch: the inner HTTP response as a WHATWG Response, and where it stood. */
export interface BatchResponse {
  response: Response;
  /** The part's Content-ID header as sent (`<response-item1:...>`, OData's `1`), or undefined. */
  contentId: string | undefined;
  /** Its position among all the responses, from 0. */
  index: number;
  /** Inside an OData changeset: the changeset's position among the batch's parts, from 0; else undefined. */
  changeset: number | undefined;
}

export interface DecodeBatchOptions extends DecodeOptions {
  /** Largest inner response held in memory, in bytes (default 16 MiB): ERR_PART_TOO_LARGE. */
  maxResponseBytes?: number;
}

/** decodeBatch() with the parser loaded (the public one, in deferred.ts, loads it on its first call). */
export function decodeBatch(source: DecodeSource, options?: DecodeBatchOptions): AsyncIterableIterator<BatchResponse> {
  return batchOf(batchStart(source, options));
}

/** The answers from a checked start: the public decodeBatch() reads them once this module is loaded. */
export function batchOf({ parts, limits, maxBytes }: BatchStart): AsyncIterableIterator<BatchResponse> {
  return batchResponses(decoderOver(parts), limits, maxBytes);
}

async function* batchResponses(
  parts: MultipartDecoder,
  limits: DecodeOptions,
  maxBytes: number,
): AsyncGenerator<BatchResponse, void, undefined> {
  let index = 0;
  let top = 0;
  try {
    for await (const part of parts) {
      const type = part.contentType === undefined ? '' : parseMediaType(part.contentType).essence;
      if (type.startsWith('multipart/')) {
        const changeset = top;
        for await (const inner of multipartDecode(part, limits))
          yield await toResponse(inner, index++, changeset, maxBytes, limits);
      } else {
        yield await toResponse(part, index++, undefined, maxBytes, limits);
      }
      top++;
    }
  } finally {
    await parts.return();
  }
}

/** The limits of a part's head, for an inner response's head (checked and filled in by batchStart()). */
const headLimits = ({ maxHeaderBytes, maxHeaderPairs }: DecodeOptions): HeadLimits => ({
  maxHeaderBytes: maxHeaderBytes ?? DEFAULT_LIMITS.maxHeaderBytes,
  maxHeaderPairs: maxHeaderPairs ?? DEFAULT_LIMITS.maxHeaderPairs,
});

async function toResponse(
  part: DecodedPart,
  index: number,
  changeset: number | undefined,
  maxBytes: number,
  limits: DecodeOptions,
): Promise<BatchResponse> {
  const where =
    changeset === undefined ? `batch part ${part.index + 1}` : `part ${part.index + 1} of changeset ${changeset + 1}`;
  const type = part.contentType === undefined ? undefined : parseMediaType(part.contentType).essence;
  if (type !== 'application/http')
    throw new DecodeError('ERR_MALFORMED_PART', `${where} is ${type ?? 'untyped'}, not application/http`);
  const response = parseHttpResponse(await part.bytes({ maxBytes }), where, headLimits(limits));
  const contentId = part.rawHeaders.find(([name]) => name.toLowerCase() === 'content-id')?.[1];
  return { response, contentId, index, changeset };
}
