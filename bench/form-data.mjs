// The drop-in beside form-data and the library's own API: `node bench/form-data.mjs [--quick] [--rounds N]` (build first:
// it imports dist/). W1–W4 as bench/workloads.mjs defines them, each subject encoding the workload and
// draining every byte, in a fresh process per measurement, rounds interleaved (each round rotates the
// order); prints medians and same-round ratios. W4 also samples, every millisecond, how many of its data
// files the process holds open. Subjects:
//   drop-in    multipart-poster/form-data as a migrating user writes it: append(name, fs.createReadStream(path),
//              { filename }), getLength(), pipe() into a sink
//   form-data  form-data 4, the same calls
//   ours       multipartEncode() with MultipartParam.fromFile(), its body drained
import { spawn } from 'node:child_process';
import { createReadStream, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DATA_DIR, describeWorkload, prepareData, workloadSizes } from './workloads.mjs';

const SUBJECTS = ['drop-in', 'form-data', 'ours'];
const WORKLOADS = ['W1', 'W2', 'W3', 'W4'];
const SLOW_MS = 10_000; // a subject slower than this (form-data on W4, over 100× ours) is measured once
/** form-data on W3's 100,000 fields takes ~34 s a run: `run.mjs` measures it on W3 already. */
const SKIPPED = { W3: ['form-data'] };
const RUN_TIMEOUT_MS = 300_000;

async function main(quick) {
  const sizes = workloadSizes(quick);
  prepareData(sizes);
  const at = process.argv.indexOf('--rounds');
  // --rounds N (npm run bench -- --quick passes 1); a whole number from 1.
  const rounds = at === -1 ? (quick ? 3 : 5) : Number(process.argv[at + 1]);
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error('--rounds takes a whole number from 1');
  console.log(
    `bench/form-data.mjs${quick ? ' --quick' : ''}: ${rounds} rounds after a warm-up, Node ${process.version}`,
  );
  for (const id of WORKLOADS) {
    const subjects = SUBJECTS.filter((subject) => !SKIPPED[id]?.includes(subject));
    const results = Object.fromEntries(subjects.map((subject) => [subject, []]));
    const slow = new Set();
    for (let round = 0; round <= rounds; round++) {
      const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]);
      for (const subject of order) {
        if (slow.has(subject) && results[subject].length > 0) continue;
        const result = await measure(subject, id, quick);
        if (result.ms > SLOW_MS) slow.add(subject);
        if (round > 0 || slow.has(subject)) results[subject].push({ ...result, round });
      }
    }
    report(id, describeWorkload(id, sizes), results);
  }
}

function measure(subject, id, quick) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [import.meta.filename, '--worker', subject, id, quick ? 'quick' : 'full'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${subject} ${id} exited ${code}: ${output}`));
      const result = JSON.parse(output);
      if (result.bytes !== result.declared)
        return reject(new Error(`${subject} ${id}: ${result.bytes} bytes sent, ${result.declared} declared`));
      resolve(result);
    });
  });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Medians, and ratios taken within each round (noise on a shared machine moves whole rounds). */
function report(id, workload, results) {
  const what = `${workload.fields.length.toLocaleString('en')} fields, ${workload.files.length.toLocaleString('en')} files`;
  console.log(`\n${id} (${what})`);
  console.log('| subject | runs | median ms | range ms | peak RSS MiB | most data files open |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [subject, runs] of Object.entries(results)) {
    const ms = runs.map((r) => r.ms);
    const open = runs.map((r) => r.mostOpen).filter((n) => n !== undefined);
    const rss = median(runs.map((r) => r.rssMiB));
    console.log(
      `| ${subject} | ${runs.length} | ${median(ms).toFixed(0)} | ${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)} | ${rss.toFixed(0)} | ${open.length ? Math.max(...open) : '–'} |`,
    );
  }
  const sameRound = (a, b) =>
    median(
      results[a].flatMap((run) =>
        results[b].filter((other) => other.round === run.round).map((other) => run.ms / other.ms),
      ),
    );
  const versus = (b) =>
    results[b] === undefined
      ? `– (${b}: see ${id} in RESULTS.md's table of every workload)`
      : `${(results[b].length > 1 ? sameRound('drop-in', b) : median(results['drop-in'].map((r) => r.ms)) / results[b][0].ms).toFixed(2)}×`;
  console.log(`drop-in ÷ ours: ${versus('ours')}   drop-in ÷ form-data: ${versus('form-data')}`);
}

async function worker(subject, id, quick) {
  const { fields, files } = describeWorkload(id, workloadSizes(quick));
  const encode = await encoders[subject](); // the module loaded before the clock starts
  const probe = id === 'W4' ? fdProbe(join(DATA_DIR, 'w4')) : undefined;
  const started = performance.now();
  const { bytes, declared } = await encode(fields, files);
  const ms = performance.now() - started;
  const mostOpen = probe?.stop();
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ ms, bytes, declared, rssMiB, ...(probe ? { mostOpen } : {}) }));
}

/** The most descriptors open on files under `dir`, sampled every millisecond. */
function fdProbe(dir) {
  let most = 0;
  const sample = () => {
    let open = 0;
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) open++;
      } catch {}
    }
    most = Math.max(most, open);
  };
  const timer = setInterval(sample, 1);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return most;
    },
  };
}

class Sink extends Writable {
  bytes = 0;
  _write(chunk, _encoding, callback) {
    this.bytes += chunk.length;
    callback();
  }
}

/** The form-data recipe, for form-data and for the drop-in alike: append, getLength, pipe. */
async function formDataRecipe(FormData, fields, files) {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  for (const file of files) form.append(file.name, createReadStream(file.path), { filename: file.filename });
  const declared = await new Promise((resolve, reject) =>
    form.getLength((error, length) => (error ? reject(error) : resolve(length))),
  );
  const sink = new Sink();
  await new Promise((resolve, reject) => {
    form.on('error', reject);
    sink.on('error', reject).on('finish', resolve);
    form.pipe(sink);
  });
  return { bytes: sink.bytes, declared };
}

/** Each subject's module, loaded; then the function that encodes a workload with it. */
const encoders = {
  async 'drop-in'() {
    const { default: FormData } = await import('../dist/form-data.js');
    return (fields, files) => formDataRecipe(FormData, fields, files);
  },
  async 'form-data'() {
    const { default: FormData } = await import('form-data');
    return (fields, files) => formDataRecipe(FormData, fields, files);
  },
  async ours() {
    const { multipartEncode, MultipartParam } = await import('../dist/index.js');
    return async (fields, files) => {
      const params = [
        ...fields,
        ...(await Promise.all(files.map((file) => MultipartParam.fromFile(file.name, file.path)))),
      ];
      const form = await multipartEncode(params);
      let bytes = 0;
      for await (const chunk of form.body) bytes += chunk.length;
      return { bytes, declared: form.contentLength };
    };
  },
};

if (process.argv[2] === '--worker') await worker(process.argv[3], process.argv[4], process.argv[5] === 'quick');
else await main(process.argv.includes('--quick'));
