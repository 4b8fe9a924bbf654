// One measurement of bench/parts.mjs in a fresh process: `node bench/parts-worker.mjs JSON`.
// Prints one JSON line: { ms, maxRssKiB, startRssKiB, maxHeapKiB, maxExternalKiB, cpuMs } (peaks sampled every 5 ms).
import { createReadStream, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const config = JSON.parse(process.argv[2]);
const { subject, path, size, partSize, concurrency } = config;

function s3Client(sdk) {
  const { endpoint, region, accessKeyId, secretAccessKey } = config.s3;
  // Checksums only where S3 requires them: lib-storage then sends each part with its signature's
  // SHA-256 and nothing more, as uploadParts sends each with its MD5.
  return new sdk.S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

async function ours(protocol) {
  const { uploadParts } = await import('../dist/index.js');
  await uploadParts(path, { protocol, partSize, concurrency, store: false });
}

const subjects = {
  async 'uploadParts (S3)'() {
    const sdk = await import('@aws-sdk/client-s3');
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    const { s3Parts } = await import('../dist/index.js');
    const client = s3Client(sdk);
    const { bucket: Bucket, key: Key } = config.s3;
    const sign = (command) => getSignedUrl(client, command, { expiresIn: 3600 });
    await ours(
      s3Parts({
        start: await sign(new sdk.CreateMultipartUploadCommand({ Bucket, Key })),
        partUrl: (PartNumber, { uploadId }) =>
          sign(new sdk.UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber })),
        completeUrl: (UploadId) => sign(new sdk.CompleteMultipartUploadCommand({ Bucket, Key, UploadId })),
        abortUrl: (UploadId) => sign(new sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId })),
      }),
    );
  },
  async 'uploadParts (S3), URLs from a backend'() {
    const { s3Parts } = await import('../dist/index.js');
    // The uploading process holds no credentials: a backend presigns each request (bench/parts.mjs serves it).
    const presign = async (body) => {
      const response = await fetch(config.backend, { method: 'POST', body: JSON.stringify(body) });
      return response.text();
    };
    await ours(
      s3Parts({
        start: await presign({ step: 'create' }),
        partUrl: (partNumber, { uploadId }) => presign({ step: 'part', uploadId, partNumber }),
        completeUrl: (uploadId) => presign({ step: 'complete', uploadId }),
        abortUrl: (uploadId) => presign({ step: 'abort', uploadId }),
      }),
    );
  },
  async 'uploadParts (S3), URLs presigned in advance'() {
    const { s3Parts } = await import('../dist/index.js');
    // The shape of the CLI's --s3-part-urls: the upload started and every URL presigned elsewhere.
    const { uploadId, parts, complete } = JSON.parse(readFileSync(config.presigned, 'utf8'));
    await ours(s3Parts({ uploadId, key: config.s3.key, partUrl: (n) => parts[n - 1], completeUrl: () => complete }));
  },
  async '@aws-sdk/lib-storage Upload'() {
    const sdk = await import('@aws-sdk/client-s3');
    const { Upload } = await import('@aws-sdk/lib-storage');
    const { bucket: Bucket, key: Key } = config.s3;
    const upload = new Upload({
      client: s3Client(sdk),
      params: { Bucket, Key, Body: createReadStream(path) },
      partSize,
      queueSize: concurrency,
    });
    await upload.done();
  },
  async 'uploadParts (tus)'() {
    const { tus } = await import('../dist/index.js');
    await ours(tus({ endpoint: config.endpoint, metadata: { filename: 'bench.bin' } }));
  },
  async 'tus-js-client'() {
    const tus = await import('tus-js-client');
    await new Promise((resolve, reject) => {
      const upload = new tus.Upload(createReadStream(path), {
        endpoint: config.endpoint,
        uploadSize: size,
        metadata: { filename: 'bench.bin' },
        retryDelays: null,
        onSuccess: resolve,
        onError: reject,
      });
      upload.start();
    });
  },
};

// Sampled: process.resourceUsage().maxRSS also counts the parent's pages the child was forked with.
// Beside the peak RSS, the peaks of the V8 heap (committed) and of memory outside it (Buffers),
// and the RSS before the subject's first import: what the subject adds is told apart from Node's own.
const startRss = process.memoryUsage.rss();
const peak = { rss: startRss, heapTotal: 0, external: 0 };
const sample = () => {
  const now = process.memoryUsage();
  for (const key of Object.keys(peak)) peak[key] = Math.max(peak[key], now[key]);
};
const sampler = setInterval(sample, 5);
sampler.unref();
const started = performance.now();
const cpu = process.cpuUsage();
await subjects[subject]();
const ms = performance.now() - started;
const { user, system } = process.cpuUsage(cpu);
// Sockets of a keep-alive agent may hold the loop: the figures are taken, then the process ends.
sample();
const KiB = (bytes) => Math.round(bytes / 1024);
const figures = {
  ms,
  maxRssKiB: KiB(peak.rss),
  startRssKiB: KiB(startRss),
  maxHeapKiB: KiB(peak.heapTotal),
  maxExternalKiB: KiB(peak.external),
  cpuMs: Math.round((user + system) / 1000),
};
process.stdout.write(`${JSON.stringify(figures)}\n`);
await sleep(0);
process.exit(0);
