export { multipartDecode, decodeBatch, decodeByteRanges } from './deferred.js';
export type { MultipartDecoder } from './decode.js';
export type { BatchResponse, DecodeBatchOptions } from './batch.js';
export type { ByteRange } from './byteranges.js';
export { DecodeError, type DecodeErrorCode } from './errors.js';
export type { DecodeOptions, DecodeLimits } from './options.js';
export type { DecodedPart } from './part.js';
export type { PartBody, ReadAllOptions } from './body.js';
export type { DecodeSource } from './source.js';
