// What the decoder's public functions load on their first call (src/decoder/deferred.ts): the
// parser, the parts' bodies, batches and byte ranges.
export { decoderOver } from './decode.js';
export { batchOf } from './batch.js';
export { rangesOf } from './byteranges.js';
// Importing the entry (loaded already: this file is only ever import()ed by it) puts every module
// of the package's import into one chunk of the build: esbuild makes a chunk for each set of entry
// points that reach a module, and each file more is one more for node to resolve and read.
import '../index.js';
