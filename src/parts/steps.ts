// What the protocols load on an upload's first step (src/parts/deferred.ts): their requests.
export { s3Steps as s3 } from './s3-steps.js';
export { tusSteps as tus } from './tus-steps.js';
export { googleSteps as google } from './google-steps.js';
// Importing the entry (loaded already: this file is only ever import()ed by it) puts every module
// of the package's import into one chunk of the build: esbuild makes a chunk for each set of entry
// points that reach a module, and each file more is one more for node to resolve and read.
import '../index.js';
