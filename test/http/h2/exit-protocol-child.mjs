// Uploads over HTTP/2 with the build to a server that breaks the protocol, with no timeout: the
// process must stay alive until the upload settles, and say how it settled.
import { upload } from '../../../dist/index.js';

const settled = upload(process.argv[2], { x: 'hello' }, { http2: true, retry: 0 }).then(
  (response) => ({ status: response.status }),
  (error) => ({ code: error.code, cause: error.cause?.code }),
);
process.on('exit', () => process.stdout.write(JSON.stringify(outcome ?? 'exited unsettled')));
let outcome;
outcome = await settled;
