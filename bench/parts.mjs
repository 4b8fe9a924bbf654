// Uploads in pieces against the same servers, in the same run: `node bench/parts.mjs [--quick]`
// (after `npm run build`). Rows: uploadParts vs @aws-sdk/lib-storage's Upload to S3 (Ceph's
// Object Gateway, a throw-away single-node cluster: test/parts/ceph.mjs), and uploadParts vs
// tus-js-client against @tus/server with @tus/file-store, on shared cores and again with the server
// pinned to core 0 and each client to core 1 (`taskset`). 1 GiB (--quick: 256 MiB) in 8 MiB
// parts, concurrency 4; each measurement in a fresh process (bench/parts-worker.mjs), rounds
// interleaved, medians of time, the highest peak RSS; every stored object checked (tus: SHA-256
// of the stored file; S3: radosgw's multipart ETag against one computed from the file).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const quick = process.argv.includes('--quick');
/** `--only s3` or `--only tus`: one comparison; `--rounds N`: rounds counted (default 3, quick 1). */
const only = process.argv[process.argv.indexOf('--only') + 1];
const roundsArg = process.argv.includes('--rounds')
  ? Number(process.argv[process.argv.indexOf('--rounds') + 1])
  : undefined;
const MiB = 1024 * 1024;
const SIZE = (quick ? 256 : 1024) * MiB;
const PART = 8 * MiB;
const CONCURRENCY = 4;
const ROUNDS = roundsArg ?? (quick ? 1 : 3);
/** tus: two clients level on an exchange the server's disk writes pace; more rounds steady the median. */
const TUS_ROUNDS = roundsArg ?? (quick ? 1 : 5);
const here = import.meta.dirname;
const run = promisify(execFile);

/** The file: 1 MiB random blocks, each made distinct, and its SHA-256. */
function makeFile(dir) {
  const path = join(dir, 'bench.bin');
  const fd = openSync(path, 'w');
  const hash = createHash('sha256');
  const block = randomBytes(MiB);
  for (let i = 0; i < SIZE / MiB; i++) {
    block.writeUInt32LE(i, 0);
    writeSync(fd, block);
    hash.update(block);
  }
  closeSync(fd);
  return { path, dir, sha256: hash.digest('hex') };
}

/** `taskset -c CORE` (util-linux) before a command: the pinned rows' server on core 0, each client on core 1. */
const pinnedTo = (core, command) => ['taskset', ['-c', String(core), ...command]];

async function measure(subject, config) {
  const worker = [process.execPath, join(here, 'parts-worker.mjs'), JSON.stringify({ subject, ...config })];
  const [file, args] = config.pinned ? pinnedTo(1, worker) : [worker[0], worker.slice(1)];
  const { stdout } = await run(file, args, { maxBuffer: 1024 * 1024, timeout: 600_000 });
  return JSON.parse(stdout.trim().split('\n').pop());
}

/**
 * Runs the subjects `rounds` times after a warm-up of `warmUps`, the order reversed every other
 * round; `check` verifies (and clears) what was stored; `before(subject)` prepares a run outside
 * the measured process.
 */
async function compare(subjects, config, check, before = () => undefined, rounds = ROUNDS, warmUps = subjects) {
  const results = Object.fromEntries(subjects.map((s) => [s, []]));
  // A warm-up, not counted: the page cache (the file, each client's modules), and a fresh server's first writes.
  for (const subject of warmUps) {
    await before(subject);
    await measure(subject, config);
    await check(subject);
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? subjects : [...subjects].reverse();
    for (const subject of order) {
      await before(subject);
      const result = await measure(subject, config);
      await check(subject);
      results[subject].push(result);
      const mib = (kib) => (kib / 1024).toFixed(0);
      console.error(
        `  ${subject}: ${(result.ms / 1000).toFixed(2)} s (CPU ${(result.cpuMs / 1000).toFixed(2)} s), peak RSS ${mib(result.maxRssKiB)} MiB` +
          ` (at start ${mib(result.startRssKiB)}, V8 heap ≤ ${mib(result.maxHeapKiB)}, outside it ≤ ${mib(result.maxExternalKiB)})`,
      );
    }
  }
  return results;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function rows(title, results, peer, targets) {
  const summary = (subject) => ({
    s: median(results[subject].map((r) => r.ms)) / 1000,
    rss: Math.max(...results[subject].map((r) => r.maxRssKiB)) / 1024,
  });
  const base = summary(peer);
  const met = (ratio, target) => `${ratio.toFixed(2)}× (target ≤ ${target}×: ${ratio <= target ? 'met' : 'NOT met'})`;
  const lines = [
    `### ${title}`,
    '',
    '| subject | time (median) | peak RSS (highest) | time ÷ peer | peak RSS ÷ peer |',
    '|---|---|---|---|---|',
  ];
  for (const subject of Object.keys(results)) {
    const { s, rss } = summary(subject);
    const ratios =
      subject === peer ? '| | |' : `| ${met(s / base.s, targets.time)} | ${met(rss / base.rss, targets.rss)} |`;
    lines.push(`| ${subject} | ${s.toFixed(2)} s | ${rss.toFixed(0)} MiB ${ratios}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Starts a multipart upload and presigns each part's PUT and the complete, as a list handed to the uploader. */
async function presignAll(client, sdk, s3, path) {
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
  const { bucket: Bucket, key: Key } = s3;
  const { UploadId } = await client.send(new sdk.CreateMultipartUploadCommand({ Bucket, Key }));
  const sign = (command) => getSignedUrl(client, command, { expiresIn: 3600 });
  const parts = [];
  for (let n = 1; n <= Math.ceil(SIZE / PART); n++)
    parts.push(await sign(new sdk.UploadPartCommand({ Bucket, Key, UploadId, PartNumber: n })));
  const complete = await sign(new sdk.CompleteMultipartUploadCommand({ Bucket, Key, UploadId }));
  writeFileSync(path, JSON.stringify({ uploadId: UploadId, parts, complete }));
}

/** A backend that presigns each request of the multipart upload, as an application's server does for its clients. */
async function presignBackend(client, sdk, Bucket, Key) {
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
  const commands = {
    create: () => new sdk.CreateMultipartUploadCommand({ Bucket, Key }),
    part: ({ uploadId, partNumber }) =>
      new sdk.UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber: partNumber }),
    complete: ({ uploadId }) => new sdk.CompleteMultipartUploadCommand({ Bucket, Key, UploadId: uploadId }),
    abort: ({ uploadId }) => new sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId }),
  };
  const server = http.createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const request = JSON.parse(text);
    const url = await getSignedUrl(client, commands[request.step](request), { expiresIn: 3600 });
    res.end(url);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/presign`, close: () => server.close() };
}

/** S3's ETag for an object uploaded in parts of `partSize`: the MD5 of the parts' MD5s, then their count. */
function multipartEtag(path, size, partSize) {
  const fd = openSync(path, 'r');
  const buffer = Buffer.allocUnsafe(partSize);
  const digests = [];
  try {
    for (let at = 0; at < size; at += partSize) {
      const length = readSync(fd, buffer, 0, Math.min(partSize, size - at), at);
      digests.push(createHash('md5').update(buffer.subarray(0, length)).digest());
    }
  } finally {
    closeSync(fd);
  }
  return `"${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}"`;
}

async function s3Rows(file) {
  if (spawnSync('sh', ['-c', 'command -v radosgw'], { stdio: 'ignore' }).status !== 0)
    return '### S3\n\nNot measured: Ceph (radosgw) is not installed here (apt-get install ceph-mon ceph-osd radosgw ceph-common).\n';
  const { startCeph } = await import('../test/parts/ceph.mjs');
  const sdk = await import('@aws-sdk/client-s3');
  const ceph = await startCeph({ memoryBytes: SIZE * 3 + 1024 * MiB });
  try {
    const credentials = { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey };
    const client = new sdk.S3Client({
      endpoint: ceph.endpoint,
      region: ceph.region,
      forcePathStyle: true,
      credentials,
    });
    await client.send(new sdk.CreateBucketCommand({ Bucket: ceph.bucket }));
    const s3 = { endpoint: ceph.endpoint, region: ceph.region, ...credentials, bucket: ceph.bucket, key: 'bench.bin' };
    // Ceph's own digest of what it stored, against the file's: the ETag names the same bytes (every
    // client sends 8 MiB parts) without reading 1 GiB back after every upload (bench/README.md).
    const expected = multipartEtag(file.path, SIZE, PART);
    const check = async (subject) => {
      const head = await client.send(new sdk.HeadObjectCommand({ Bucket: ceph.bucket, Key: 'bench.bin' }));
      if (head.ETag !== expected || head.ContentLength !== SIZE)
        throw new Error(
          `${subject}: the stored object is not the file (ETag ${head.ETag}, ${head.ContentLength} bytes)`,
        );
      await client.send(new sdk.DeleteObjectCommand({ Bucket: ceph.bucket, Key: 'bench.bin' }));
      ceph.collectGarbage();
    };
    const backend = await presignBackend(client, sdk, ceph.bucket, 'bench.bin');
    const peer = '@aws-sdk/lib-storage Upload';
    const advance = 'uploadParts (S3), URLs presigned in advance';
    const subjects = ['uploadParts (S3)', 'uploadParts (S3), URLs from a backend', advance, peer];
    const presigned = join(file.dir, 'presigned.json');
    const config = {
      path: file.path,
      size: SIZE,
      partSize: PART,
      concurrency: CONCURRENCY,
      s3,
      backend: backend.url,
      presigned,
    };
    const before = (subject) => (subject === advance ? presignAll(client, sdk, s3, presigned) : undefined);
    // One warm-up of our client and one of the SDK's: the other two load the same modules.
    const results = await compare(subjects, config, check, before, ROUNDS, [subjects[0], peer]);
    backend.close();
    client.destroy();
    return rows("S3 multipart to Ceph's radosgw (127.0.0.1)", results, peer, { time: 1.0, rss: 0.5 });
  } finally {
    await ceph.stop();
  }
}

/** A file's SHA-256, read 4 MiB at a time into one buffer: the parent, which serves tus, never holds 1 GiB. */
function sha256Of(path) {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(4 * MiB);
  const fd = openSync(path, 'r');
  try {
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0;) hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** @tus/server in a process of its own on core 0 (bench/tus-server.mjs); `stop()` ends it. */
async function pinnedTusServer(directory) {
  const [file, args] = pinnedTo(0, [process.execPath, join(here, 'tus-server.mjs'), directory]);
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (line) => resolve(Number(String(line).trim())));
    child.once('exit', (code) => reject(new Error(`bench/tus-server.mjs exited with ${code}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}/files`,
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

async function tusRows(file, dir) {
  const { Server } = await import('@tus/server');
  const { FileStore } = await import('@tus/file-store');
  const directory = join(dir, 'tus');
  const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) });
  const server = http.createServer((req, res) => void tus.handle(req, res).catch(() => res.destroy()));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${server.address().port}/files`;
  const check = async (subject) => {
    const { readdirSync } = await import('node:fs');
    const stored = readdirSync(directory).filter((name) => !name.endsWith('.json'));
    if (stored.length !== 1) throw new Error(`${subject}: ${stored.length} uploads stored`);
    if (sha256Of(join(directory, stored[0])) !== file.sha256) throw new Error(`${subject}: the upload is not the file`);
    rmSync(directory, { recursive: true, force: true });
  };
  const subjects = ['uploadParts (tus)', 'tus-js-client'];
  const targets = { time: 1.0, rss: 1.0 };
  // Each with its own default piece size: both send the file in one PATCH.
  const config = { path: file.path, size: SIZE, concurrency: CONCURRENCY, endpoint };
  let shared;
  try {
    const results = await compare(subjects, config, check, undefined, TUS_ROUNDS);
    shared = rows('tus to @tus/server with @tus/file-store (127.0.0.1)', results, 'tus-js-client', targets);
  } finally {
    server.closeAllConnections();
    server.close();
  }
  // The same exchange with the server on core 0 and each client on core 1, as if on separate
  // machines: on two shared cores the server and the client contend for them (bench/README.md).
  const pinned = await pinnedTusServer(directory);
  try {
    // Its rounds spread less than the shared ones: ROUNDS of them, after one warm-up of the fresh server.
    const pinnedConfig = { ...config, endpoint: pinned.endpoint, pinned: true };
    const results = await compare(subjects, pinnedConfig, check, undefined, ROUNDS, ['tus-js-client']);
    const title = 'tus, pinned: the server on core 0, each client on core 1';
    return `${shared}\n${rows(title, results, 'tus-js-client', targets)}`;
  } finally {
    await pinned.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bench-parts-'));
try {
  const file = makeFile(dir);
  console.error(
    `${SIZE / MiB} MiB in ${PART / MiB} MiB parts, concurrency ${CONCURRENCY}, ${ROUNDS} round(s), Node ${process.version}`,
  );
  const s3 = only === 'tus' ? '' : await s3Rows(file);
  const tus = only === 's3' ? '' : await tusRows(file, dir);
  console.log(
    `## Uploads in pieces (${quick ? 'quick: ' : ''}${SIZE / MiB} MiB, ${PART / MiB} MiB parts, concurrency ${CONCURRENCY}, ${ROUNDS} round(s), tus ${TUS_ROUNDS})\n`,
  );
  console.log(s3);
  console.log(tus);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
