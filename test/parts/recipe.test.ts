import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// The recipe of docs/recipes.md, as a user copies it.
import { uploadInParts } from '../../examples/s3-multipart.mjs';
import { tempDir } from '../helpers/files.js';
import { json, startServer } from '../helpers/servers.js';

const MiB = 1024 * 1024;
const dir = tempDir();

/** A 256 MiB file of pseudo-random bytes, and its SHA-256. */
function bigFile(): { path: string; sha256: string } {
  const path = join(dir, 'big.bin');
  const fd = openSync(path, 'w');
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(MiB);
  let x = 12345;
  for (let i = 0; i < 256; i++) {
    for (let j = 0; j < MiB; j += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      block.writeInt32LE(x | 0, j);
    }
    writeSync(fd, block);
    hash.update(block);
  }
  closeSync(fd);
  return { path, sha256: hash.digest('hex') };
}

/**
 * A server that takes parts the way S3 does (PUT ?partNumber=N, the ETag the part's MD5) and fails
 * on purpose: the first PUT of part 3 is answered 503, of part 7 gets its connection reset half way
 * through the body, of part 12 is answered 503 with Retry-After: 0; `refuse` answers a part 403
 * for good. It checks that each part's Content-Length is the bytes received.
 */
async function s3LikeServer(refuse?: number) {
  const parts = new Map<number, Buffer>();
  const attempts = new Map<number, number>();
  const server = await startServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const chunks: Buffer[] = [];
    let received = 0;
    const partNumber = Number(url.searchParams.get('partNumber'));
    const attempt = (attempts.get(partNumber) ?? 0) + 1;
    attempts.set(partNumber, attempt);
    req.on('data', (c: Buffer) => {
      received += c.length;
      chunks.push(c);
      if (partNumber === 7 && attempt === 1 && received > 4 * MiB) req.socket.destroy();
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (Number(req.headers['content-length']) !== body.length) return json(res, 400, { error: 'length' });
      if (partNumber === refuse) return json(res, 403, { error: 'denied' });
      if (partNumber === 3 && attempt === 1) return json(res, 503, { error: 'slow down' });
      if (partNumber === 12 && attempt === 1) return json(res, 503, { error: 'slow down' }, { 'retry-after': '0' });
      parts.set(partNumber, body);
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"`, 'content-length': 0 });
      res.end();
    });
  });
  const partUrl = (n: number) => `${server.origin}/bucket/big.bin?partNumber=${n}&uploadId=u-1`;
  const whole = () => {
    const hash = createHash('sha256');
    for (let n = 1; n <= parts.size; n++) hash.update(parts.get(n)!);
    return hash.digest('hex');
  };
  return { partUrl, attempts, parts, whole };
}

/** Descriptors of this process open on `path`, sampled while the upload runs. */
function openOn(path: string): number {
  let open = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) open++;
    } catch {
      // closed while we looked
    }
  }
  return open;
}

describe('the S3 multipart recipe (examples/s3-multipart.mjs)', () => {
  it("sends a 256 MiB file as 32 slices of 8 MiB, 4 at a time, through failures; the parts' SHA-256 is the file's", async () => {
    const file = bigFile();
    const server = await s3LikeServer();
    let mostOpen = 0;
    const sampler = setInterval(() => (mostOpen = Math.max(mostOpen, openOn(file.path))), 2);
    const parts = await uploadInParts(file.path, server.partUrl, { partSize: 8 * MiB, concurrency: 4 }).finally(() =>
      clearInterval(sampler),
    );
    expect(parts.map((p) => p.PartNumber)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(server.whole()).toBe(file.sha256);
    expect([server.attempts.get(3), server.attempts.get(7), server.attempts.get(12), server.attempts.get(1)]).toEqual([
      2, 2, 2, 1,
    ]);
    expect(mostOpen).toBeGreaterThan(0);
    expect(mostOpen).toBeLessThanOrEqual(4);
    expect(openOn(file.path)).toBe(0);
  });

  it('stops its workers when a part is refused for good: no part starts after it, the error is thrown', async () => {
    const file = bigFile();
    const server = await s3LikeServer(5);
    await expect(uploadInParts(file.path, server.partUrl, { partSize: 8 * MiB, concurrency: 4 })).rejects.toThrow(
      'part 5: the server answered 403',
    );
    // Parts 1 to 8 at most were started (5 and the three beside it); none of the other 24.
    expect(Math.max(...server.attempts.keys())).toBeLessThanOrEqual(8);
    expect(openOn(file.path)).toBe(0);
  });
});
