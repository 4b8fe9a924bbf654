export { genBoundary, isValidBoundary, formDataContentType } from './boundary.js';
export { encodeAndQuote, escapeName, escapeFilename } from './escape.js';
export { MultipartError, UploadError } from './errors.js';
export type { MultipartErrorCode, UploadErrorCode } from './errors.js';
export { MultipartParam } from './param.js';
export type { MultipartParamOptions, FromFileOptions, FieldValue, ParamsInput, ProgressCallback, FileObject } from './param.js';
export type { StreamLike } from './sources.js';
export type { BodyProgressCallback } from './stream.js';
export {
  multipartEncode,
  rawBody,
  getBodySize,
  getHeaders,
  encodeString,
  encodeFileHeader,
  UploadBody,
} from './encoder.js';
export type { EncodeOptions, EncodedBody, EncodedForm, RawBodyOptions } from './encoder.js';
export { upload, type UploadOptions, type TlsOptions, type RetryOptions, type UploadAttempt } from './http/upload.js';
