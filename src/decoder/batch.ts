import { DecodeError } from './errors.js';
import { multipartDecode, type MultipartDecoder } from './decode.js';
import { checkDecodeOptions, checkLimit, decodeOptionsOf, type DecodeOptions } from './options.js';
import { DEFAULT_MAX_BUFFERED } from './body.js';
import { parseHttpResponse } from './http-message.js';
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

/**
 * The answers of a batch request (Google's batch endpoints, OData `$batch`): a multipart/mixed
 * body of `application/http` parts, each turned into a Response, in order; an OData changeset
 * (a multipart/mixed part) gives its responses in turn. Each inner response is held whole (up to
 * maxResponseBytes) before it is yielded.
 */
export function decodeBatch(source: DecodeSource, options?: DecodeBatchOptions): AsyncIterableIterator<BatchResponse> {
  const checked = checkDecodeOptions(options, ['maxResponseBytes']);
  const maxBytes = checkLimit(
    (options as DecodeBatchOptions | undefined)?.maxResponseBytes,
    'maxResponseBytes',
    DEFAULT_MAX_BUFFERED,
  );
  const parts = multipartDecode(source, decodeOptionsOf(checked));
  return batchResponses(parts, { ...checked.limits }, maxBytes);
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
          yield await toResponse(inner, index++, changeset, maxBytes);
      } else {
        yield await toResponse(part, index++, undefined, maxBytes);
      }
      top++;
    }
  } finally {
    await parts.return();
  }
}

async function toResponse(
  part: DecodedPart,
  index: number,
  changeset: number | undefined,
  maxBytes: number,
): Promise<BatchResponse> {
  const where =
    changeset === undefined ? `batch part ${part.index + 1}` : `part ${part.index + 1} of changeset ${changeset + 1}`;
  const type = part.contentType === undefined ? undefined : parseMediaType(part.contentType).essence;
  if (type !== 'application/http')
    throw new DecodeError('ERR_MALFORMED_PART', `${where} is ${type ?? 'untyped'}, not application/http`);
  const response = parseHttpResponse(await part.bytes({ maxBytes }), where);
  const contentId = part.rawHeaders.find(([name]) => name.toLowerCase() === 'content-id')?.[1];
  return { response, contentId, index, changeset };
}
