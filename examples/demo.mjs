// npm run demo: start a receiving server on 127.0.0.1, upload the fixtures/
// files and a few fields to it with fetch and a live progress line, and print
// what the server received next to what was sent.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { multipartEncode, MultipartParam } from 'multipart-poster';
import { createReceiver } from 'multipart-poster/receiver';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'files');
const server = createReceiver();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/upload`;

const files = readdirSync(fixtures).sort();
const params = [
  ['title', 'multipart-poster demo'],
  ['description', 'Fixtures uploaded with fetch, streamed with an exact Content-Length ☃'],
  ...(await Promise.all(files.map((file) => MultipartParam.fromFile('file', join(fixtures, file))))),
];

const { body, headers, contentLength } = await multipartEncode(params, {
  blockSize: 4096, // small reads so the progress line has something to show for tiny fixtures
  onProgress: (_param, current, total) => {
    const percent = Math.floor((current / total) * 100);
    process.stderr.write(`\ruploading ${current}/${total} bytes (${percent}%)`);
  },
});
const response = await fetch(url, { method: 'POST', body, headers, duplex: 'half' });
process.stderr.write('\n');
const report = await response.json();
server.close();

console.log(`POST ${url} -> ${response.status}`);
console.log(`sent Content-Length ${contentLength}; server counted ${report.bytesReceived} bytes; chunked: ${report.chunked}`);
for (const part of report.parts) {
  const local = part.filename ? readFileSync(join(fixtures, part.filename)) : undefined;
  const same = local ? createHash('sha256').update(local).digest('hex') === part.sha256 : true;
  console.log(
    `  ${part.name.padEnd(12)} ${(part.filename ?? '-').padEnd(22)} ${part.type.padEnd(26)} ${String(part.size).padStart(6)} B  sha256 ${part.sha256.slice(0, 16)}…${same ? '' : '  MISMATCH'}`,
  );
}
const ok = report.lengthMatches && report.parts.length === params.length;
console.log(ok ? 'Content-Length matched the bytes received: yes' : 'Content-Length did NOT match the bytes received');
process.exitCode = ok ? 0 : 1;
