export { genBoundary, isValidBoundary, formDataContentType } from './boundary.js';
export { encodeAndQuote, escapeName, escapeFilename } from './escape.js';
export { MultipartError, UploadError } from './errors.js';
export type { MultipartErrorCode, UploadErrorCode } from './errors.js';
export type { PartHeadersInit } from './headers.js';
export { MultipartParam } from './param.js';
export type {
  MultipartParamOptions,
  FromFileOptions,
  FieldValue,
  ParamsEntry,
  ParamsInput,
  ProgressCallback,
  FileObject,
  NestedForm,
} from './param.js';
export type { BlobLike, StreamLike } from './sources.js';
export type { SpoolOptions } from './spool.js';
export { multipartEncode, rawBody, getBodySize, getHeaders, encodeString, encodeFileHeader } from './encoder.js';
export type {
  BodyProgressCallback,
  EncodeOptions,
  EncodedBody,
  EncodedForm,
  RawBodyOptions,
  ReadOptions,
  UploadBody,
} from './encoder.js';
export { upload, type UploadOptions, type TlsOptions, type RetryOptions, type UploadAttempt } from './http/upload.js';
