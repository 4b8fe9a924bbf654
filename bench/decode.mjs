// Decoding benchmark: multipartDecode (the built library, dist/) beside busboy, @fastify/busboy,
// formidable and undici's Response.formData(), on the same bodies, each run in a child process of
// its own so that its peak memory is its own.
// `node bench/decode.mjs [--quick] [--rounds N] [--v8-pool-size N]`; run `npm run build` first.
//
// The source gives one 64 KiB chunk per turn of the event loop, as a socket does, so that the event
// loop delay measures what the parser itself holds the loop for. `--v8-pool-size N` (default 0:
// sized by Node to the machine) is passed to every child alike (bench/README.md says why).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable, Writable } from 'node:stream';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const root = join(fileURLToPath(import.meta.url), '..', '..');
const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const quick = process.argv.includes('--quick');

/** The workloads of issue 18, each a body and its Content-Type; --quick shrinks them. */
const WORKLOADS = {
  'single-part': {
    title: quick ? 'a 128 MiB single part' : 'a 1 GiB single part',
    formData: true,
    size: quick ? 128 * MiB : 1024 * MiB,
  },
  fields: {
    title: quick ? '10,000 small fields' : '100,000 small fields',
    formData: true,
    count: quick ? 10_000 : 100_000,
  },
  files: { title: quick ? '200 × 4 KiB files' : '2,000 × 4 KiB files', formData: true, count: quick ? 200 : 2_000 },
  batch: { title: 'a batch of 100 responses (multipart/mixed of application/http)', formData: false, count: 100 },
};
const PARSERS = ['raw read', 'multipartDecode', 'busboy', '@fastify/busboy', 'formidable', 'undici formData()'];
const BOUNDARY = '----bench-boundary-7MA4YWxkTrZu0gW';

const SINGLE_HEAD = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
const SINGLE_TAIL = `\r\n--${BOUNDARY}--\r\n`;
let preparedLength = 0;
const bodyLength = (workload) =>
  workload === 'single-part'
    ? SINGLE_HEAD.length + Math.ceil(WORKLOADS[workload].size / CHUNK) * CHUNK + SINGLE_TAIL.length
    : preparedLength;

/** The body's chunks (64 KiB each): a 1 GiB body made as it is read (one block sent again and again), the others made whole before the clock starts. */
function chunksOf(workload) {
  const spec = WORKLOADS[workload];
  if (workload === 'single-part') {
    const block = randomBytes(CHUNK);
    return (function* () {
      yield Buffer.from(SINGLE_HEAD);
      for (let sent = 0; sent < spec.size; sent += CHUNK) yield block;
      yield Buffer.from(SINGLE_TAIL);
    })();
  }
  const pieces = [];
  if (workload === 'fields') {
    for (let i = 0; i < spec.count; i++)
      pieces.push(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="field${i}"\r\n\r\nvalue of field ${i}\r\n`);
  } else if (workload === 'files') {
    const data = randomBytes(4096).toString('latin1');
    for (let i = 0; i < spec.count; i++) {
      pieces.push(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file${i}"; filename="f${i}.bin"\r\nContent-Type: application/octet-stream\r\n\r\n${data}\r\n`,
      );
    }
  } else {
    for (let i = 0; i < spec.count; i++) {
      const json = JSON.stringify({ id: i, name: `item ${i}`, tags: Array.from({ length: 40 }, (_, j) => `tag-${j}`) });
      pieces.push(
        `--${BOUNDARY}\r\nContent-Type: application/http\r\nContent-ID: <response-item${i}>\r\n\r\n` +
          `HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ${json.length}\r\n\r\n${json}\r\n`,
      );
    }
  }
  pieces.push(`--${BOUNDARY}--\r\n`);
  return prepare(pieces.join(''));
}

/** A body made whole: its length noted for the headers, its chunks (views of CHUNK bytes) to be read. */
function prepare(text) {
  const body = Buffer.from(text, 'latin1');
  preparedLength = body.length;
  const chunks = [];
  for (let at = 0; at < body.length; at += CHUNK) chunks.push(body.subarray(at, at + CHUNK));
  return chunks.values();
}

/** A Readable that gives one chunk per turn of the event loop, with the request's headers on it (formidable reads them there). */
function source(workload) {
  const chunks = prepared ?? chunksOf(workload);
  prepared = undefined;
  const stream = new Readable({
    read() {
      setImmediate(() => {
        const { value, done } = chunks.next();
        this.push(done ? null : value);
      });
    },
  });
  // formidable reads the request's headers, and takes a body without a length for an empty one.
  stream.headers = { 'content-type': contentType(workload), 'content-length': String(bodyLength(workload)) };
  return stream;
}

const contentType = (workload) =>
  `multipart/${(WORKLOADS[workload] ?? WARM_UP[workload]).formData ? 'form-data' : 'mixed'}; boundary=${BOUNDARY}`;

/**
 * A body of one part for each kind, decoded before the clock: every parser has then loaded and
 * compiled its code (multipartDecode loads its parser on first use, as a chunk of the build).
 */
const WARM_UP = {
  'warm-up form': { formData: true, count: 1 },
  'warm-up batch': { formData: false, count: 1 },
};

function warmUpChunks(workload) {
  const part = WARM_UP[workload].formData
    ? `--${BOUNDARY}\r\nContent-Disposition: form-data; name="warm"\r\n\r\nup\r\n`
    : `--${BOUNDARY}\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nup\r\n`;
  return prepare(`${part}--${BOUNDARY}--\r\n`);
}

/** Each parser reads every byte of every part (counted), as an application would. */
const RUNNERS = {
  async 'raw read'(workload) {
    let bytes = 0;
    for await (const chunk of source(workload)) bytes += chunk.length;
    return { bytes, parts: 0 };
  },
  async multipartDecode(workload) {
    const { multipartDecode, decodeBatch } = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
    let bytes = 0;
    let parts = 0;
    if (!(WORKLOADS[workload] ?? WARM_UP[workload]).formData) {
      for await (const { response } of decodeBatch(source(workload), { contentType: contentType(workload) })) {
        bytes += (await response.arrayBuffer()).byteLength;
        parts++;
      }
      return { bytes, parts };
    }
    for await (const part of multipartDecode(source(workload), {
      contentType: contentType(workload),
      maxParts: Infinity,
    })) {
      for await (const chunk of part) bytes += chunk.length;
      parts++;
    }
    return { bytes, parts };
  },
  busboy: (workload) => busboyLike(require('busboy'), workload),
  '@fastify/busboy': (workload) => busboyLike(require('@fastify/busboy'), workload),
  async formidable(workload) {
    const { formidable } = require('formidable');
    let bytes = 0;
    let parts = 0;
    const counter = () =>
      new Writable({
        write(chunk, _encoding, callback) {
          bytes += chunk.length;
          callback();
        },
      });
    const form = formidable({
      maxFields: Infinity,
      maxFieldsSize: Infinity,
      maxFiles: Infinity,
      maxFileSize: Infinity,
      maxTotalFileSize: Infinity,
      allowEmptyFiles: true,
      minFileSize: 0,
      fileWriteStreamHandler: counter,
    });
    const [fields, files] = await form.parse(source(workload));
    for (const value of Object.values(fields).flat()) {
      bytes += Buffer.byteLength(value);
      parts++;
    }
    for (const list of Object.values(files)) parts += list.length;
    return { bytes, parts };
  },
  async 'undici formData()'(workload) {
    const { Response } = require('undici');
    const form = await new Response(Readable.toWeb(source(workload)), {
      headers: { 'content-type': contentType(workload) },
    }).formData();
    let bytes = 0;
    let parts = 0;
    for (const [, value] of form) {
      bytes += typeof value === 'string' ? Buffer.byteLength(value) : value.size;
      parts++;
    }
    return { bytes, parts };
  },
};

function busboyLike(make, workload) {
  return new Promise((resolve, reject) => {
    const parser = make({
      headers: { 'content-type': contentType(workload) },
      limits: { fieldSize: Infinity, fields: Infinity, files: Infinity, parts: Infinity, fileSize: Infinity },
    });
    let bytes = 0;
    let parts = 0;
    parser.on('field', (_name, value) => {
      bytes += Buffer.byteLength(value);
      parts++;
    });
    parser.on('file', (_name, stream) => {
      parts++;
      stream.on('data', (chunk) => (bytes += chunk.length));
    });
    parser.on('error', reject);
    parser.on('close', () => resolve({ bytes, parts }));
    parser.on('finish', () => setImmediate(() => resolve({ bytes, parts }))); // @fastify/busboy ends with 'finish'
    source(workload).pipe(parser);
  });
}

let prepared;

/** In the child: one parser over one workload; prints its figures as JSON. */
async function child(workload, parser) {
  if (!WORKLOADS[workload].formData && parser !== 'raw read' && parser !== 'multipartDecode') {
    return console.log(JSON.stringify({ skipped: 'parses multipart/form-data only' }));
  }
  const body = chunksOf(workload);
  const length = preparedLength;
  // Loaded before the clock starts: module loading is not parsing.
  const modules = {
    multipartDecode: () => import(pathToFileURL(join(root, 'dist', 'index.js')).href),
    busboy: () => require('busboy'),
    '@fastify/busboy': () => require('@fastify/busboy'),
    formidable: () => require('formidable'),
    'undici formData()': () => require('undici'),
  };
  await modules[parser]?.();
  // Node loads its fetch classes on first use: a one-time cost, not the parser's.
  new Headers().append('x', 'y');
  await new Response('').text();
  const warmUp = WORKLOADS[workload].formData ? 'warm-up form' : 'warm-up batch';
  prepared = warmUpChunks(warmUp);
  await RUNNERS[parser](warmUp);
  [prepared, preparedLength] = [body, length];
  // The body's preparation leaves ~100 MB of garbage (the 100,000 field strings) in the old
  // generation; collected here, it is not charged to whichever parser happens to trigger the
  // collection inside the timed window (it had cost a fast parser its loop p99).
  globalThis.gc();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const result = await RUNNERS[parser](workload);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const { user, system } = process.cpuUsage(cpuStart);
  delay.disable();
  const { maxRSS } = process.resourceUsage();
  console.log(
    JSON.stringify({
      ...result,
      ms,
      cpuMs: (user + system) / 1000,
      peakRssMiB: maxRSS / 1024,
      loopP99Ms: delay.percentile(99) / 1e6,
      loopMaxMs: delay.max / 1e6,
    }),
  );
}

/**
 * `--v8-pool-size N` (or `=N`; default 0) for every child alike: 0 lets Node size V8's pool of
 * background threads to the machine (its available parallelism less one, at least one: one here,
 * where Node's default is 4; pass 4 to measure with that). With four on 2 cores, even a raw read
 * with no parser stalled the loop for up to 5.6 ms, and the parsers more: bench/README.md has both.
 */
const poolArg = process.argv.findIndex((arg) => arg === '--v8-pool-size' || arg.startsWith('--v8-pool-size='));
const V8_POOL_SIZE =
  poolArg === -1
    ? 0
    : Number(process.argv[poolArg].includes('=') ? process.argv[poolArg].split('=')[1] : process.argv[poolArg + 1]);
if (!Number.isSafeInteger(V8_POOL_SIZE) || V8_POOL_SIZE < 0)
  throw new Error('--v8-pool-size wants a whole number from 0');

/** `--rounds N` (default 3): each parser runs N times per workload, in rotated order; the medians are reported. */
const ROUNDS = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 3;

async function parent() {
  const run = promisify(execFile);
  const runs = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    for (const workload of Object.keys(WORKLOADS)) {
      const order = PARSERS.map((_, i) => PARSERS[(i + round) % PARSERS.length]);
      for (const parser of order) {
        const args = [fileURLToPath(import.meta.url), '--child', workload, parser, ...(quick ? ['--quick'] : [])];
        const key = `${workload}\t${parser}`;
        let result;
        try {
          const { stdout } = await run(process.execPath, ['--expose-gc', `--v8-pool-size=${V8_POOL_SIZE}`, ...args], {
            cwd: root,
            maxBuffer: 16 * MiB,
            timeout: 30 * 60_000,
          });
          result = JSON.parse(stdout);
        } catch (error) {
          result = {
            failed: String(error.stderr || error.message)
              .split('\n')
              .find(Boolean),
          };
        }
        runs.set(key, [...(runs.get(key) ?? []), result]);
        process.stderr.write('.');
      }
    }
  }
  process.stderr.write('\n');
  const rows = [...runs].map(([key, results]) => ({
    workload: key.split('\t')[0],
    parser: key.split('\t')[1],
    ...summary(results),
  }));
  console.log(report(rows));
}

const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Medians of the times and the loop delay, the highest peak memory. */
function summary(results) {
  const failed = results.find((r) => r.failed || r.skipped);
  if (failed) return failed;
  const pick = (key) => results.map((r) => r[key]);
  return {
    ...results[0],
    ms: median(pick('ms')),
    cpuMs: median(pick('cpuMs')),
    loopP99Ms: median(pick('loopP99Ms')),
    loopMaxMs: median(pick('loopMaxMs')),
    peakRssMiB: Math.max(...pick('peakRssMiB')),
  };
}

function report(rows) {
  const lines = [
    `Node ${process.version}, ${quick ? 'quick sizes' : 'full sizes'}; 64 KiB chunks, one per event-loop turn; V8 pool ${V8_POOL_SIZE === 0 ? 'sized by Node to the cores (`--v8-pool-size=0`)' : `of ${V8_POOL_SIZE} threads`}; each run in a fresh process, ${ROUNDS} rounds in rotated order: medians (peak RSS: the highest).`,
    'MiB/s is the body over the wall time; × busboy compares CPU time (user + system), steadier than wall time on a busy machine. The loop figures include the 1 ms timer that samples them (an idle loop reads ~1 ms); on a row of a few milliseconds the p99 is the largest of a few samples.',
    '',
    '| workload | parser | time (ms) | CPU (ms) | MiB/s | × busboy (CPU) | peak RSS (MiB) | × raw read | loop p99 (ms) | loop max (ms) | parts |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const workload of Object.keys(WORKLOADS)) {
    const of = (parser) => rows.find((row) => row.workload === workload && row.parser === parser);
    const [busboyRow, raw] = [of('busboy'), of('raw read')];
    for (const parser of PARSERS) {
      const row = of(parser);
      const title = WORKLOADS[workload].title;
      if (row.skipped || row.failed) {
        lines.push(`| ${title} | ${parser} | ${row.skipped ?? `failed: ${row.failed}`} | | | | | | | | |`);
        continue;
      }
      const speed = busboyRow?.cpuMs ? (busboyRow.cpuMs / row.cpuMs).toFixed(2) : '';
      const mibs = raw?.bytes ? (raw.bytes / MiB / (row.ms / 1000)).toFixed(0) : '';
      lines.push(
        `| ${title} | ${parser} | ${row.ms.toFixed(0)} | ${row.cpuMs.toFixed(0)} | ${mibs} | ${speed} | ${row.peakRssMiB.toFixed(0)} | ${(row.peakRssMiB / raw.peakRssMiB).toFixed(2)} | ${row.loopP99Ms.toFixed(1)} | ${row.loopMaxMs.toFixed(1)} | ${row.parts} |`,
      );
    }
  }
  return lines.join('\n');
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else await parent();
