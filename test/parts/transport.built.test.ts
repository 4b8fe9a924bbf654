// A process that uploads only in pieces never loads Node's fetch classes (undici, about 12 MiB and
// 20 ms) nor node:http2: uploadParts' requests go through uploadPlain(), which makes no Response,
// and their headers are kept in a HeaderList, not a Headers (bench/README.md, uploads in pieces).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';

it('uploadParts never loads Node fetch classes (undici) or node:http2 in a process that uploads only in pieces', async () => {
  const dir = tempDir();
  const child = join(dir, 'parts-only.mjs');
  const dist = join(import.meta.dirname, '..', '..', 'dist', 'index.js');
  writeFileSync(
    child,
    `import { createServer } from 'node:http';
const { uploadParts, s3Parts } = await import(${JSON.stringify(dist)});
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'POST') res.writeHead(200, { 'content-type': 'application/xml' }).end('<CompleteMultipartUploadResult><ETag>"all"</ETag></CompleteMultipartUploadResult>');
    else res.writeHead(200, { etag: '"e' + req.url.slice(-1) + '"' }).end();
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = 'http://127.0.0.1:' + server.address().port;
const result = await uploadParts(new Uint8Array(12 * 1024 * 1024), {
  protocol: s3Parts({ uploadId: 'U', partUrl: (n) => url + '/part' + n, completeUrl: () => url + '/complete', verifyETag: false }),
  partSize: 5 * 1024 * 1024,
  store: false,
});
server.close();
const loaded = process.moduleLoadList.filter((name) => /undici|http2|webstreams\\/readablestream/.test(name));
console.log(JSON.stringify({ parts: result.parts.length, loaded }));
`,
  );
  const output = await new Promise<string>((resolve, reject) => {
    const process_ = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    process_.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    process_.on('error', reject);
    process_.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`the child exited ${code}: ${out}`))));
  });
  expect(JSON.parse(output.trim().split('\n').pop()!)).toEqual({ parts: 3, loaded: [] });
}, 30_000);
