// Uploads over HTTP/2 with the build, reads the answer, then lists what still keeps the event loop
// alive: an idle pooled session must not (it is unref'd), so the process could exit at once.
import { rawBody, upload } from '../../../dist/index.js';

const response = await upload(process.argv[2], await rawBody(Buffer.alloc(1000, 1)), { http2: true });
await response.arrayBuffer();
setImmediate(() => {
  const handles = process.getActiveResourcesInfo().filter((name) => /TCP|TLS|Pipe/.test(name) && name !== 'PipeWrap');
  process.stdout.write(JSON.stringify({ status: response.status, handles }));
});
