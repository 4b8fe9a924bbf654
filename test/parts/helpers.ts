import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { s3Parts, type S3PartsOptions } from '../../src/index.js';
import type { S3Fake } from './fakes/s3.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** A file of `size` pseudo-random bytes in `dir`, written 1 MiB at a time, and its SHA-256. */
export function randomFile(dir: string, name: string, size: number, seed = 7): { path: string; sha256: string } {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(Math.min(size, MiB));
  let x = seed >>> 0 || 1;
  for (let written = 0; written < size;) {
    const length = Math.min(block.length, size - written);
    for (let j = 0; j < length; j++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      block[j] = x & 0xff;
    }
    const chunk = block.subarray(0, length);
    writeSync(fd, chunk);
    hash.update(chunk);
    written += length;
  }
  closeSync(fd);
  return { path, sha256: hash.digest('hex') };
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A multipart upload of `key` started on the fake, and a presigned PUT URL for each of its first `parts` parts: what --s3-part-urls is given. */
export async function presignedUpload(
  fake: S3Fake,
  key: string,
  parts: number,
): Promise<{ uploadId: string; urls: string[] }> {
  const started = await fetch(fake.presign('POST', key, { uploads: '' }), { method: 'POST' });
  const uploadId = /<UploadId>([^<]+)</.exec(await started.text())![1]!;
  const urls = Array.from({ length: parts }, (_, i) =>
    fake.presign('PUT', key, { partNumber: String(i + 1), uploadId }),
  );
  return { uploadId, urls };
}

/** s3Parts with every step presigned by the fake, as a backend would hand them out. */
export function s3ForFake(fake: S3Fake, key: string, extra: Partial<S3PartsOptions> = {}) {
  return s3Parts({
    start: fake.presign('POST', key, { uploads: '' }),
    partUrl: (n, { uploadId }) => fake.presign('PUT', key, { partNumber: String(n), uploadId }),
    listUrl: (uploadId, marker) =>
      fake.presign('GET', key, { uploadId, ...(marker === undefined ? {} : { 'part-number-marker': String(marker) }) }),
    completeUrl: (uploadId) => fake.presign('POST', key, { uploadId }),
    abortUrl: (uploadId) => fake.presign('DELETE', key, { uploadId }),
    ...extra,
  });
}

/** `size` pseudo-random bytes and their SHA-256. */
export function bytesOf(size: number, seed = 7): { data: Buffer; sha256: string } {
  const data = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 0xff;
  }
  return { data, sha256: sha256(data) };
}
