// Uploads over HTTP/2 with the build to a server that misbehaves, with no timeout: the process must
// stay alive until the upload settles, and say how it settled. argv[3] (ms) aborts it by
// AbortSignal.timeout(), whose timer does not keep the process alive.
import { upload } from '../../../dist/index.js';

const signal = process.argv[3] === undefined ? {} : { signal: AbortSignal.timeout(Number(process.argv[3])) };
const settled = upload(process.argv[2], { x: 'hello' }, { http2: true, retry: 0, ...signal }).then(
  (response) => ({ status: response.status }),
  (error) => ({ code: error.code, cause: error.cause?.code }),
);
process.on('exit', () => process.stdout.write(JSON.stringify(outcome ?? 'exited unsettled')));
let outcome;
outcome = await settled;
