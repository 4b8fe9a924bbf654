import { MultipartError } from '../common/errors.js';
import { describe } from '../common/validate.js';
import { headersFor } from './body.js';
import { assertValidBoundary } from './boundary.js';
import { guessType } from './mime.js';
import { checkContentType, checkText } from './param-options.js';
import { MultipartParam, partOf, type ParamsInput } from './param.js';
import { bodyLength, multipartContentType, partHead, wirePieces, type Piece } from './wire.js';

// poster's module-level functions, kept for code ported from it; each is one of the encoder's own steps.

/** poster's `get_body_size`: the body's byte count, computed without reading any file. */
export function getBodySize(params: ParamsInput, boundary: string): number {
  const length = bodyLength(formDataPieces(params, boundary));
  if (length === undefined) {
    throw new MultipartError('ERR_SIZE_UNKNOWN', 'a stream of unknown size is among the params; give its filesize');
  }
  return length;
}

/** poster's `get_headers`: `Content-Type`, and `Content-Length` unless a stream's size is unknown. */
export function getHeaders(params: ParamsInput, boundary: string): Record<string, string> {
  return headersFor(multipartContentType('form-data', boundary), bodyLength(formDataPieces(params, boundary)));
}

function formDataPieces(params: ParamsInput, boundary: string): Piece<MultipartParam>[] {
  assertValidBoundary(boundary);
  return wirePieces(MultipartParam.fromParams(params).map(partOf), {
    boundary,
    disposition: 'form-data',
    chosen: true,
  });
}

/** poster's `encode_string`: one complete text part. */
export function encodeString(boundary: string, name: string, value: string | Uint8Array): Buffer {
  return new MultipartParam(name, { value }).encode(boundary);
}

/**
 * poster's `encode_file_header`: the header block of a file part. The size is
 * checked but not sent (no per-part Content-Length: RFC 7578 §4.8).
 */
export function encodeFileHeader(
  boundary: string,
  paramName: string,
  fileSize: number,
  filename?: string,
  filetype?: string,
): string {
  assertValidBoundary(boundary);
  if (!(Number.isSafeInteger(fileSize) && fileSize >= 0)) {
    throw new MultipartError(
      'ERR_INVALID_VALUE',
      `fileSize must be a whole number of bytes, not ${describe(fileSize)}`,
      { paramName },
    );
  }
  if (typeof paramName !== 'string') {
    throw new MultipartError('ERR_INVALID_NAME', `a field name must be a string, not ${describe(paramName)}`);
  }
  checkText(filename, 'filename', paramName);
  checkContentType(filetype, paramName);
  return partHead(
    { boundary, disposition: 'form-data' },
    { name: paramName, filename, contentType: filetype ?? guessType(filename), headers: undefined },
  );
}
