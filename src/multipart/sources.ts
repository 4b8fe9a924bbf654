// The sources of a part's bytes, by kind; this module is the one the rest of the library imports them from.
export { unreadable, type ByteSource, type ReadSettings } from './sources/source.js';
export { BlockPool } from './sources/pool.js';
export { FileSource, type Measured } from './sources/file.js';
export { BlobSource, blobName, blobType, isBlobLike, type BlobLike } from './sources/blob.js';
export { consumedError, isStreamLike, knownStreamSize, StreamSource, type StreamLike } from './sources/stream.js';
