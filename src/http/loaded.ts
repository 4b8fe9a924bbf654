// What upload() loads on its first call (src/http/deferred-upload.ts): the HTTP client.
export { upload } from './upload.js';
// Importing the entry (loaded already: this file is only ever import()ed by it) puts every module
// of the package's import into one chunk of the build: esbuild makes a chunk for each set of entry
// points that reach a module, and each file more is one more for node to resolve and read.
import '../index.js';
