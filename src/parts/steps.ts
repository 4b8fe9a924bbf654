// What the protocols load on an upload's first step (src/parts/deferred.ts): their requests.
export { s3Steps as s3 } from './s3-steps.js';
export { tusSteps as tus } from './tus-steps.js';
export { googleSteps as google } from './google-steps.js';
import '../index.js';
