export { genBoundary, isValidBoundary, formDataContentType } from './multipart/boundary.js';
export { encodeAndQuote, escapeName, escapeFilename } from './multipart/escape.js';
export { MultipartError, UploadError } from './common/errors.js';
export type { MultipartErrorCode, UploadErrorCode } from './common/errors.js';
export type { PartHeadersInit } from './multipart/headers.js';
export { MultipartParam } from './multipart/param.js';
export type {
  MultipartParamOptions,
  FromFileOptions,
  FieldValue,
  ParamsEntry,
  ParamsInput,
  ProgressCallback,
  FileObject,
  NestedForm,
} from './multipart/param.js';
export type { BlobLike, StreamLike } from './multipart/sources.js';
export type { SpoolOptions } from './multipart/spool.js';
export {
  multipartEncode,
  rawBody,
  getBodySize,
  getHeaders,
  encodeString,
  encodeFileHeader,
} from './multipart/encode.js';
export type {
  BodyProgressCallback,
  EncodeOptions,
  EncodedBody,
  EncodedForm,
  RawBodyOptions,
  ReadOptions,
  UploadBody,
} from './multipart/encode.js';
export {
  upload,
  type AgentForUrl,
  type UploadOptions,
  type TlsOptions,
  type RetryOptions,
  type UploadAttempt,
} from './http/upload.js';
