// A child process that uploads a file 200 times with retries (the built dist/) to the URL in
// argv[2], whose server fails attempts at random, and prints one JSON line: the descriptors it
// had open before and after, and how the uploads ended. Counting /proc/self/fd here sees only
// the client's descriptors, not the test server's.
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { MultipartParam, upload } from '../../dist/index.js';

const [url, path] = process.argv.slice(2);
const openDescriptors = () => readdirSync('/proc/self/fd').length;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const form = async (i) => ({ n: String(i), file: await MultipartParam.fromFile('file', path) });

await (await upload(`${url}?warm`, await form(-1), { method: 'PUT', agent })).text();
agent.destroy();
await new Promise((resolve) => setTimeout(resolve, 100));
const before = openDescriptors();
const outcomes = {};
let retries = 0;
for (let i = 0; i < 200; i++) {
  let key;
  try {
    const response = await upload(`${url}?${i}`, await form(i), {
      method: 'PUT',
      agent,
      blockSize: 64 * 1024,
      expectContinue: i % 3 === 0,
      retry: { limit: 3, backoff: 1, onRetry: () => retries++ },
    });
    if (i % 5 === 0) await response.body?.cancel();
    else await response.text();
    key = String(response.status);
  } catch (error) {
    key = error.code ?? String(error);
  }
  outcomes[key] = (outcomes[key] ?? 0) + 1;
}
agent.destroy();
let after = openDescriptors();
for (let tries = 0; after > before && tries < 100; tries++) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  after = openDescriptors();
}
process.stdout.write(
  `${JSON.stringify({ before, after, outcomes, retries, sockets: Object.keys(agent.sockets).length })}\n`,
);
