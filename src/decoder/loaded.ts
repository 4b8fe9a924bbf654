// What the decoder's public functions load on their first call (src/decoder/deferred.ts): the
// parser, the parts' bodies, batches and byte ranges.
export { decoderOver } from './decode.js';
export { batchOf } from './batch.js';
export { rangesOf } from './byteranges.js';
import '../index.js';
