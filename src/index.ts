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
// upload(), the decoder and uploadParts() load their code on first use (each a chunk of the build).
export { upload } from './http/deferred-upload.js';
export type { AgentForUrl, UploadOptions, TlsOptions, RetryOptions, UploadAttempt } from './http/upload.js';
export { multipartDecode, decodeBatch, decodeByteRanges, DecodeError } from './decoder/index.js';
export type {
  MultipartDecoder,
  BatchResponse,
  DecodeBatchOptions,
  ByteRange,
  DecodeErrorCode,
  DecodeOptions,
  DecodeLimits,
  DecodedPart,
  PartBody,
  ReadAllOptions,
  DecodeSource,
} from './decoder/index.js';
export { uploadParts } from './parts/deferred.js';
export type { UploadPartsOptions } from './parts/options.js';
export type { PartsSource } from './parts/source.js';
export type { PartsProtocol } from './parts/protocol.js';
export { PartsError } from './parts/errors.js';
export type { PartsErrorCode, StoredPiece } from './parts/errors.js';
export { s3Parts, type S3PartsOptions, type S3PartsResult } from './parts/s3.js';
export type { CompletedPart } from './parts/s3-xml.js';
export { tus, type TusOptions, type TusResult } from './parts/tus.js';
export { googleResumable, type GoogleResumableOptions, type GoogleResumableResult } from './parts/google.js';
export { fileSessionStore, defaultSessionDirectory, type SessionStore, type PartsSession } from './parts/store.js';
export { parseRate } from './http/rate.js';
