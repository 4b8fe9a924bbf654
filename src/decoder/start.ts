import { DecodeError } from './errors.js';
import { checkDecodeOptions, type DecodeOptions, type Limits } from './options.js';
import { parseMediaType } from '../common/media-type.js';
import { chunkSource, ownContentType, type ChunkSource, type DecodeSource } from './source.js';

/** Longest boundary accepted (RFC 2046 allows 70; some producers write longer ones). */
export const MAX_BOUNDARY_LENGTH = 1000;

/**
 * What a decoder starts from, all checked: the source adapted, the boundary, the limits. Made
 * synchronously by multipartDecode() (its errors are thrown at once), before the parser is loaded.
 */
export interface DecodeStart {
  chunks: ChunkSource;
  boundary: string;
  mediaType: string | undefined;
  limits: Limits;
}

/** Checks the options and the source of multipartDecode(), and finds the boundary. */
export function decodeStart(source: DecodeSource, options?: DecodeOptions): DecodeStart {
  const checked = checkDecodeOptions(options);
  const { boundary, mediaType } = boundaryFor(checked.contentType ?? ownContentType(source), checked.boundary);
  return { chunks: chunkSource(source), boundary, mediaType, limits: checked.limits };
}

/** The boundary to split on and the media type it came with; ERR_INVALID_CONTENT_TYPE or ERR_INVALID_BOUNDARY when there is none to use. */
export function boundaryFor(
  contentType: string | undefined,
  boundary: string | undefined,
): { boundary: string; mediaType: string | undefined } {
  const parsed = contentType === undefined ? undefined : parseMediaType(contentType);
  if (boundary === undefined) {
    if (parsed === undefined)
      throw new DecodeError(
        'ERR_INVALID_CONTENT_TYPE',
        'no Content-Type to take the boundary from: give options.contentType or options.boundary',
      );
    if (!parsed.essence.startsWith('multipart/'))
      throw new DecodeError(
        'ERR_INVALID_CONTENT_TYPE',
        `the Content-Type ${JSON.stringify(contentType)} is not multipart/*`,
      );
    boundary = parsed.parameters.get('boundary');
    if (boundary === undefined)
      throw new DecodeError(
        'ERR_INVALID_CONTENT_TYPE',
        `the Content-Type ${JSON.stringify(contentType)} has no boundary`,
      );
  }
  if (boundary.length === 0 || boundary.length > MAX_BOUNDARY_LENGTH || !/^[\x20-\x7e]+$/.test(boundary)) {
    throw new DecodeError(
      'ERR_INVALID_BOUNDARY',
      `the boundary must be 1 to ${MAX_BOUNDARY_LENGTH} printable ASCII characters, not ${JSON.stringify(boundary.slice(0, 80))}`,
    );
  }
  return { boundary, mediaType: parsed?.essence.startsWith('multipart/') ? parsed.essence : undefined };
}
