import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartsError, s3Parts, uploadParts, type S3PartsOptions } from '../../src/index.js';
import { tempDir } from '../helpers/files.js';
import { startServer } from '../helpers/servers.js';
import { startCeph, type Ceph } from './ceph.mjs';
import { runKilled, runToEnd } from './child.js';
import { MiB, randomFile } from './helpers.js';

let ceph: Ceph;
let direct: S3Client;

function client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: ceph.region,
    forcePathStyle: true,
    credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey },
  });
}

/** s3Parts with every step presigned by the AWS SDK's presigner, as a backend would hand them out. */
function presigned(s3: S3Client, Key: string, extra: Partial<S3PartsOptions> = {}) {
  const Bucket = ceph.bucket;
  const sign = (command: object) => getSignedUrl(s3, command as never, { expiresIn: 3600 });
  return async () =>
    s3Parts({
      start: await sign(new CreateMultipartUploadCommand({ Bucket, Key })),
      partUrl: (PartNumber, { uploadId }) =>
        sign(new UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber })),
      listUrl: (UploadId, marker) =>
        sign(new ListPartsCommand({ Bucket, Key, UploadId, ...(marker ? { PartNumberMarker: String(marker) } : {}) })),
      completeUrl: (UploadId) => sign(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId })),
      abortUrl: (UploadId) => sign(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })),
      ...extra,
    });
}

async function storedSha256(Key: string): Promise<string> {
  const object = await direct.send(new GetObjectCommand({ Bucket: ceph.bucket, Key }));
  const hash = createHash('sha256');
  for await (const chunk of object.Body as Readable) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

type ProxyFault = { reset: number } | { status: number } | { etag: string } | undefined;

/** A proxy in front of the gateway that breaks requests on purpose; the Host header goes through as it is, so signatures hold. */
async function faultyProxy(decide: (method: string, url: URL, attempt: number) => ProxyFault) {
  const attempts = new Map<string, number>();
  const target = new URL(ceph.endpoint);
  const server = await startServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const part = `${req.method} ${url.searchParams.get('partNumber') ?? ''}`;
    const attempt = (attempts.get(part) ?? 0) + 1;
    attempts.set(part, attempt);
    const fault = decide(req.method!, url, attempt);
    if (fault && 'status' in fault) {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/xml' });
      return void res.end('<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>proxy</Message></Error>');
    }
    const upstream = http.request({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    });
    upstream.on('error', () => res.destroy());
    upstream.on('response', (answer) => {
      const headers = { ...answer.headers };
      if (fault && 'etag' in fault) headers.etag = fault.etag;
      res.writeHead(answer.statusCode!, headers);
      answer.pipe(res);
    });
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (fault && 'reset' in fault && seen >= fault.reset) {
        upstream.destroy();
        req.socket.destroy();
      }
    });
    req.pipe(upstream);
  });
  return server.origin;
}

beforeAll(async () => {
  ceph = await startCeph();
  direct = client(ceph.endpoint);
  await direct.send(new CreateBucketCommand({ Bucket: ceph.bucket }));
}, 180_000);

afterAll(async () => {
  direct?.destroy();
  await ceph?.stop();
}, 60_000);

describe("S3 multipart against Ceph's Object Gateway (radosgw)", () => {
  it('stores 64 MiB in 8 MiB parts byte for byte with Content-MD5, through a reset and a 503', async () => {
    const dir = tempDir();
    const file = randomFile(dir, 'big.bin', 64 * MiB);
    const proxy = await faultyProxy((method, url, attempt) => {
      const n = url.searchParams.get('partNumber');
      if (method !== 'PUT' || attempt > 1) return undefined;
      return n === '2' ? { reset: 3 * MiB } : n === '5' ? { status: 503 } : undefined;
    });
    const via = client(proxy);
    const result = await uploadParts(file.path, {
      protocol: await presigned(via, 'big.bin', { checksum: 'md5' })(),
      partSize: 8 * MiB,
      concurrency: 4,
      store: false,
      retry: { limit: 3, backoff: 50 },
    });
    via.destroy();
    expect(result.completed).toBe(true);
    expect(result.parts).toHaveLength(8);
    expect(await storedSha256('big.bin')).toBe(file.sha256);
  });

  it.each(['crc32', 'sha256'] as const)(
    'checksum %s: the headers go unsigned with presigned URLs, the upload completes',
    async (checksum) => {
      const dir = tempDir();
      const file = randomFile(dir, `${checksum}.bin`, 11 * MiB);
      const result = await uploadParts(file.path, {
        protocol: await presigned(direct, `${checksum}.bin`, { checksum })(),
        partSize: 5 * MiB,
        store: false,
      });
      expect(result.completed).toBe(true);
      expect(await storedSha256(`${checksum}.bin`)).toBe(file.sha256);
    },
  );

  it('a part refused for good: the upload is aborted on the gateway', async () => {
    const dir = tempDir();
    const file = randomFile(dir, 'refused.bin', 24 * MiB);
    const proxy = await faultyProxy((method, url) =>
      method === 'PUT' && url.searchParams.get('partNumber') === '3' ? { status: 403 } : undefined,
    );
    const via = client(proxy);
    const error = (await uploadParts(file.path, {
      protocol: await presigned(via, 'refused.bin')(),
      partSize: 5 * MiB,
      concurrency: 2,
      store: false,
    }).catch((e: unknown) => e)) as PartsError;
    via.destroy();
    expect(error).toBeInstanceOf(PartsError);
    expect(error.code).toBe('ERR_PIECE_FAILED');
    expect(error.abandoned).toBe(true);
    const listed = await direct
      .send(new ListPartsCommand({ Bucket: ceph.bucket, Key: 'refused.bin', UploadId: error.session! }))
      .catch((e: Error) => e.name);
    expect(['NoSuchUpload', 'NoSuchKey']).toContain(listed);
  });

  it('an ETag that is not the MD5 of the bytes sent is a typed error, never a corrupt object', async () => {
    const dir = tempDir();
    const file = randomFile(dir, 'etag.bin', 12 * MiB);
    const proxy = await faultyProxy((method, url) =>
      method === 'PUT' && url.searchParams.get('partNumber') === '2'
        ? { etag: '"00000000000000000000000000000000"' }
        : undefined,
    );
    const via = client(proxy);
    const error = (await uploadParts(file.path, {
      protocol: await presigned(via, 'etag.bin')(),
      partSize: 5 * MiB,
      store: false,
    }).catch((e: unknown) => e)) as PartsError;
    via.destroy();
    expect(error.code).toBe('ERR_CHECKSUM_MISMATCH');
    expect(error.abandoned).toBe(true);
    await expect(direct.send(new GetObjectCommand({ Bucket: ceph.bucket, Key: 'etag.bin' }))).rejects.toThrow();
  });

  it('refuses a chunked part upload with 411, as the S3 fake does', async () => {
    const Bucket = ceph.bucket;
    const { UploadId } = await direct.send(new CreateMultipartUploadCommand({ Bucket, Key: 'chunked.bin' }));
    const url = await getSignedUrl(
      direct,
      new UploadPartCommand({ Bucket, Key: 'chunked.bin', UploadId, PartNumber: 1 }),
    );
    const response = await fetch(url, {
      method: 'PUT',
      body: Readable.toWeb(Readable.from([Buffer.alloc(1000)])) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(411);
    expect(await response.text()).toContain('MissingContentLength');
    await direct.send(new AbortMultipartUploadCommand({ Bucket, Key: 'chunked.bin', UploadId }));
  });

  it('survives SIGKILL at 50%: the same call resumes and stores the file', async () => {
    const dir = tempDir();
    const file = randomFile(dir, 'resumed.bin', 40 * MiB);
    const s3 = {
      endpoint: ceph.endpoint,
      region: ceph.region,
      accessKeyId: ceph.accessKeyId,
      secretAccessKey: ceph.secretAccessKey,
      bucket: ceph.bucket,
      key: 'resumed.bin',
    };
    const config = {
      kind: 's3-sdk',
      s3,
      path: file.path,
      store: join(dir, 'sessions'),
      partSize: 5 * MiB,
      concurrency: 2,
    };
    await runKilled(config, () => (loaded, total) => loaded >= total / 2);
    const second = await runToEnd(config);
    expect(second.done!.resumedBytes).toBeGreaterThan(0);
    expect(await storedSha256('resumed.bin')).toBe(file.sha256);
  });
});
