// The receiving end of a pipe for the event-loop workloads that only encode (W1-loop, W4-loop):
// the worker spawns it, sends the request headers over IPC and writes the body to its stdin;
// it parses the body as the upload server does, hashing every file, and sends back the report.
import { parseMultipart } from './verify.mjs';

process.once('message', async (headers) => {
  const { body } = await parseMultipart(process.stdin, headers, { sha256: true });
  process.send(body, () => process.disconnect());
});
process.send('ready');
