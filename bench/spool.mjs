// Spooling a stream of many small chunks against writing the same chunks with fs.createWriteStream.
//
//   npm run build && node bench/spool.mjs [--quick]
//
// Both sides consume the same async generator of 11-byte chunks (2 million, or 200,000 with
// --quick), so what is compared is what each does with a chunk. Each round runs both, in
// alternating order; the ratio is the median of the rounds' own ratios, for the elapsed time
// (the target) and for the CPU time of the whole process (its threads included: steadier on a
// shared machine). Each run checks that the bytes on disk (or in the body) are the bytes of the
// stream. Target: spool within 1.3x of createWriteStream.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawBody } from '../dist/index.js';

const quick = process.argv.includes('--quick');
const CHUNKS = quick ? 200_000 : 2_000_000;
const ROUNDS = quick ? 3 : 5;
const TARGET = 1.3;

/** Deterministic 11-byte rows, `row 0000001\n` and so on; a fresh Buffer each, as a line splitter yields them. */
async function* rows() {
  for (let i = 0; i < CHUNKS; i++) yield Buffer.from(`r${String(i).padStart(9, '0')}\n`);
}

const expected = (() => {
  const hash = createHash('sha256');
  for (let i = 0; i < CHUNKS; i++) hash.update(`r${String(i).padStart(9, '0')}\n`);
  return hash.digest('hex');
})();

async function hashFile(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

async function hashBody(body) {
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk);
  return hash.digest('hex');
}

/** Elapsed and CPU milliseconds of `run()`. */
async function measure(run) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await run();
  const { user, system } = process.cpuUsage(cpu);
  return { ms: performance.now() - started, cpuMs: (user + system) / 1000, result };
}

async function writeStream(dir) {
  const path = join(dir, 'write-stream.bin');
  const file = createWriteStream(path);
  for await (const chunk of rows()) if (!file.write(chunk)) await once(file, 'drain');
  file.end();
  await once(file, 'finish');
  return path;
}

async function checkWritten(path) {
  if ((await hashFile(path)) !== expected) throw new Error('createWriteStream wrote other bytes');
  rmSync(path);
}

const spool = (dir) => rawBody(rows(), { spool: { dir } });

async function checkSpooled(dir, body) {
  if (body.contentLength !== CHUNKS * 11) throw new Error(`spool measured ${body.contentLength} bytes`);
  if (readdirSync(dir).length !== 1) throw new Error('spool did not write one file');
  if ((await hashBody(body.body)) !== expected) throw new Error('spool kept other bytes');
  await body.dispose();
}

const subjects = {
  spool: async (dir) => {
    const run = await measure(() => spool(dir));
    await checkSpooled(dir, run.result);
    return run;
  },
  write: async (dir) => {
    const run = await measure(() => writeStream(dir));
    await checkWritten(run.result);
    return run;
  },
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'bench-spool-'));
try {
  await subjects.spool(dir); // warm-up: the JIT and the page cache
  await subjects.write(dir);
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['spool', 'write'] : ['write', 'spool'];
    const runs = {};
    for (const name of order) runs[name] = await subjects[name](dir);
    rounds.push(runs);
  }
  const med = (pick) => median(rounds.map(pick));
  const ratio = med((r) => r.spool.ms / r.write.ms);
  const cpuRatio = med((r) => r.spool.cpuMs / r.write.cpuMs);
  console.log(`spool: ${CHUNKS.toLocaleString('en')} chunks of 11 bytes, ${ROUNDS} rounds, Node ${process.version}`);
  console.log('| subject | elapsed ms (median) | CPU ms (median) |');
  console.log('|---|---|---|');
  const row = (label, name) =>
    console.log(`| ${label} | ${med((r) => r[name].ms).toFixed(0)} | ${med((r) => r[name].cpuMs).toFixed(0)} |`);
  row('spool: `rawBody(stream, { spool })`, to a file', 'spool');
  row('`fs.createWriteStream`, the same chunks', 'write');
  console.log(
    `| spool / createWriteStream (median of round ratios) | ${ratio.toFixed(2)}x | ${cpuRatio.toFixed(2)}x |`,
  );
  console.log(`target: elapsed within ${TARGET}x: ${ratio <= TARGET ? 'met' : 'NOT met'}`);
  if (ratio > TARGET) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
