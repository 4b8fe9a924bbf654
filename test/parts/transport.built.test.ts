// A process that uploads only in pieces loads no more of Node than a bare http.request does: not
// Node's fetch classes (undici, about 12 MiB and 20 ms on Node 20) nor node:http2. uploadParts'
// requests go through uploadPlain(), which makes no Response, and their headers are kept in a
// HeaderList, not a Headers (bench/README.md, uploads in pieces). From Node 22 on, node:http loads
// undici itself, so there the two lists are the same and hold it.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';

const dist = join(import.meta.dirname, '..', '..', 'dist', 'index.js');

/** A server for S3 parts and CompleteMultipartUpload, then `work`, then the builtins of interest loaded by then. */
const child = (work: string) => `import { createServer, request } from 'node:http';
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'POST') res.writeHead(200, { 'content-type': 'application/xml' }).end('<CompleteMultipartUploadResult><ETag>"all"</ETag></CompleteMultipartUploadResult>');
    else res.writeHead(200, { etag: '"e' + req.url.slice(-1) + '"' }).end();
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = 'http://127.0.0.1:' + server.address().port;
const done = await (async () => { ${work} })();
server.close();
const loaded = process.moduleLoadList.filter((name) => /undici|http2|webstreams\\/readablestream/.test(name));
console.log(JSON.stringify({ done, loaded }));
`;

async function run(dir: string, name: string, work: string): Promise<{ done: unknown; loaded: string[] }> {
  const file = join(dir, name);
  writeFileSync(file, child(work));
  const output = await new Promise<string>((resolve, reject) => {
    const process_ = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    process_.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    process_.on('error', reject);
    process_.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${name} exited ${code}: ${out}`))));
  });
  return JSON.parse(output.trim().split('\n').pop()!) as { done: unknown; loaded: string[] };
}

it('uploadParts loads no more of Node than a bare http.request: no fetch classes (undici), no node:http2', async () => {
  const dir = tempDir();
  const [parts, bare] = await Promise.all([
    run(
      dir,
      'parts.mjs',
      `const { uploadParts, s3Parts } = await import(${JSON.stringify(dist)});
    const result = await uploadParts(new Uint8Array(12 * 1024 * 1024), {
      protocol: s3Parts({ uploadId: 'U', partUrl: (n) => url + '/part' + n, completeUrl: () => url + '/complete', verifyETag: false }),
      partSize: 5 * 1024 * 1024,
      store: false,
    });
    return result.parts.length;`,
    ),
    run(
      dir,
      'bare.mjs',
      `return await new Promise((resolve, reject) => {
      const req = request(url + '/part1', { method: 'PUT' }, (res) => res.resume().on('end', () => resolve(res.statusCode)));
      req.on('error', reject).end(Buffer.alloc(1024));
    });`,
    ),
  ]);
  expect(parts.done).toBe(3);
  expect(bare.done).toBe(200);
  expect(parts.loaded).toEqual(bare.loaded);
  if (process.versions.node.startsWith('20.')) expect(parts.loaded).toEqual([]);
}, 30_000);
