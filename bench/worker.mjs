// One measurement in a fresh process: `node bench/worker.mjs SUBJECT WORKLOAD quick|full [URL] [--probe-fds]`.
// Prints one JSON line: time, CPU, peak RSS, bytes produced (or received) and the declared length,
// and where the workload asks for them the check of what was received, the event-loop delay, or
// the medians of fresh processes started.
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  createReadStream,
  openAsBlob,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
// The built package by path, not by name, so that Bun and Deno (the FETCH workload) resolve it as Node does.
import { multipartEncode, MultipartParam, upload } from '../dist/index.js';
import { collectBeforeTheClock } from './full-gc.mjs';
import { checkReport } from './verify.mjs';
import { DATA_DIR, describeWorkload, expectedParts, workloadSizes } from './workloads.mjs';

const [subject, workloadId, mode, url] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const probeFds = process.argv.includes('--probe-fds');
const root = join(import.meta.dirname, '..');
const workload = describeWorkload(workloadId, workloadSizes(mode === 'quick'));
const { fields, files } = workload;
/** Where uploads go: the URL, the CA that signed the server's certificate (W6), the shared agents (W7). */
const target = {
  url,
  ca: url?.startsWith('https:') ? readFileSync(join(root, 'fixtures', 'tls', 'ca.crt')) : undefined,
  agent: undefined,
  dispatcher: undefined,
};

/** Counts what it is given and drops it. */
class Sink extends Writable {
  bytes = 0;
  _write(chunk, _encoding, callback) {
    this.bytes += chunk.length;
    callback();
  }
}

async function drain(iterable) {
  let bytes = 0;
  for await (const chunk of iterable) bytes += chunk.length;
  return bytes;
}

/**
 * W7's recipes for other clients encode with 256 KiB blocks (`many`): with the default 1 MiB,
 * 32 uploads at once peak at 220–290 MiB (see bench/README.md); upload() keeps the default, as
 * it reuses its blocks.
 */
const MANY_BLOCK_SIZE = 256 * 1024;

async function oursForm(onProgress, { blockSize } = {}) {
  const params = [
    ...fields,
    ...(await Promise.all(files.map((file) => MultipartParam.fromFile(file.name, file.path)))),
  ];
  return multipartEncode(params, { ...(onProgress ? { onProgress } : {}), ...(blockSize ? { blockSize } : {}) });
}

/** The options a recipe other than upload() encodes with: smaller blocks when many uploads are in flight. */
const recipeForm = () => oursForm(undefined, workload.kind === 'many' ? { blockSize: MANY_BLOCK_SIZE } : {});

async function formDataForm() {
  const { default: FormData } = await import('form-data');
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  for (const file of files) form.append(file.name, createReadStream(file.path), { filename: file.filename });
  return form;
}

async function encoderForm() {
  const { FormData } = await import('formdata-node');
  const { fileFromPath } = await import('formdata-node/file-from-path');
  const { FormDataEncoder } = await import('form-data-encoder');
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  for (const file of files) form.append(file.name, await fileFromPath(file.path));
  return new FormDataEncoder(form);
}

async function nativeForm() {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  for (const file of files) form.append(file.name, await openAsBlob(file.path), file.filename);
  return form;
}

/** W1–W4: encode the workload and consume every byte. */
const encoders = {
  async ours() {
    const form = await oursForm();
    return { bytes: await drain(form.body), declared: form.contentLength };
  },
  /** Only the plan and its length: what computing Content-Length costs. */
  async 'ours length'() {
    const form = await oursForm();
    return { bytes: form.contentLength, declared: form.contentLength };
  },
  async 'ours+progress'() {
    let calls = 0;
    const form = await oursForm(() => calls++);
    return { bytes: await drain(form.body), declared: form.contentLength, progressCalls: calls };
  },
  async 'form-data'() {
    const form = await formDataForm();
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
  },
  async 'form-data-encoder'() {
    const encoder = await encoderForm();
    return { bytes: await drain(encoder.encode()), declared: Number(encoder.contentLength) };
  },
  async native() {
    return { bytes: await drain(new Response(await nativeForm()).body), declared: undefined };
  },
  async raw() {
    if (files.length === 0) throw new Error('no files in this workload');
    let bytes = 0;
    for (const file of files) bytes += await drain(createReadStream(file.path, { highWaterMark: 1024 * 1024 }));
    return { bytes, declared: bytes };
  },
  /** The physical limit: the files copied from the page cache to /dev/null by `cat`, in its own process. */
  cat: () => catFiles(),
  /** A bare read loop: `FileHandle.read` into one buffer of ours' block size (1 MiB), nothing else. */
  async 'fs.read'() {
    if (files.length === 0) throw new Error('no files in this workload');
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    let bytes = 0;
    for (const file of files) {
      const handle = await open(file.path);
      try {
        for (let n = -1; n !== 0; bytes += n) ({ bytesRead: n } = await handle.read(buffer, 0, buffer.length, null));
      } finally {
        await handle.close();
      }
    }
    return { bytes, declared: bytes };
  },
};

/** `cat FILE... > /dev/null` under /usr/bin/time: its CPU and peak RSS are the process's own. */
function catFiles() {
  if (files.length === 0) throw new Error('no files in this workload');
  const paths = files.map((file) => file.path);
  const bytes = paths.reduce((sum, path) => sum + statSync(path).size, 0);
  return new Promise((resolve, reject) => {
    const devNull = openSync('/dev/null', 'w');
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', 'cat', ...paths], {
      stdio: ['ignore', devNull, 'pipe'],
    });
    closeSync(devNull);
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`cat exited ${code}: ${stderr.trim()}`));
      const [, user, sys, maxRssKiB] = stderr.trim().split('\n').at(-1).split(' ').map(Number);
      resolve({ bytes, declared: bytes, external: { cpuMs: (user + sys) * 1000, maxRssMiB: maxRssKiB / 1024 } });
    });
  });
}

/** W1-loop, W4-loop: encode into a pipe to bench/check.mjs, which parses and hashes what it reads. */
const pipedEncoders = {
  async ours(checker) {
    const form = await oursForm();
    return { report: await checker.send(form.headers, form.body), declared: form.contentLength };
  },
  async 'form-data-encoder'(checker) {
    const encoder = await encoderForm();
    return { report: await checker.send(encoder.headers, encoder.encode()), declared: Number(encoder.contentLength) };
  },
};

/** Starts bench/check.mjs; resolves once it is listening, before anything is measured. */
function startChecker() {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'check.mjs')], {
    stdio: ['pipe', 'ignore', 'inherit', 'ipc'],
  });
  const report = new Promise((resolve, reject) => {
    child.on('message', (message) => message !== 'ready' && resolve(message));
    child.on('exit', (code) => reject(new Error(`check.mjs exited ${code} without a report`)));
  });
  const ready = new Promise((resolve) => child.once('message', resolve));
  const send = async (headers, body) => {
    child.send(Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)])));
    for await (const chunk of body) {
      if (!child.stdin.write(chunk)) await new Promise((resolve) => child.stdin.once('drain', resolve));
    }
    child.stdin.end();
    return report;
  };
  return ready.then(() => ({ send }));
}

async function answer(res) {
  const chunks = [];
  for await (const chunk of res) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString());
}

/** docs/recipes.md's node:http (and node:https) recipe: `pipeline(body, req)`, the async iterable written with back-pressure. */
function viaHttpRequest(headers, body) {
  return new Promise((resolve, reject) => {
    const transport = target.url.startsWith('https:') ? https : http;
    const options = {
      method: 'POST',
      headers,
      ...(target.agent ? { agent: target.agent } : {}),
      ...(target.ca ? { ca: target.ca } : {}),
    };
    const req = transport.request(target.url, options);
    req.on('response', (res) => answer(res).then(resolve, reject)).on('error', reject);
    pipeline(body, req).catch(reject);
  });
}

/** upload()'s options for the target: none for W5, the CA for W6, the shared agent for W7. */
const uploadOptions = () => ({
  ...(target.agent ? { agent: target.agent } : {}),
  ...(target.ca ? { tls: { ca: target.ca } } : {}),
});

/** W5, W6, W7, W5-loop: upload the workload to the server in another process. */
const uploaders = {
  async 'ours upload()'() {
    const form = await oursForm();
    const report = await (await upload(target.url, form, uploadOptions())).json();
    return { report, declared: form.contentLength };
  },
  async 'ours http.request'() {
    const form = await recipeForm();
    return { report: await viaHttpRequest(form.headers, form.body), declared: form.contentLength };
  },
  /** docs/recipes.md's undici, got and axios recipes, with the shared agent when there is one. */
  async 'ours undici.request'() {
    const { request } = await import('undici');
    const form = await recipeForm();
    const options = {
      method: 'POST',
      body: form.body,
      headers: form.headers,
      ...(target.dispatcher ? { dispatcher: target.dispatcher } : {}),
    };
    const { body } = await request(target.url, options);
    return { report: await body.json(), declared: form.contentLength };
  },
  async 'ours got'() {
    const { default: got } = await import('got');
    const form = await recipeForm();
    const options = {
      body: form.body,
      headers: form.headers,
      ...(target.agent ? { agent: { http: target.agent } } : {}),
    };
    return { report: await got.post(target.url, options).json(), declared: form.contentLength };
  },
  /**
   * maxRedirects: 0 sends through node:http itself: axios's default transport (follow-redirects)
   * keeps a copy of every byte written, to replay it on a redirect (1.1 GiB for W7).
   */
  async 'ours axios'() {
    const { default: axios } = await import('axios');
    const form = await recipeForm();
    const options = { headers: form.headers, maxRedirects: 0, ...(target.agent ? { httpAgent: target.agent } : {}) };
    const { data } = await axios.post(target.url, Readable.from(form.body, { objectMode: false }), options);
    return { report: data, declared: form.contentLength };
  },
  async 'form-data'() {
    const form = await formDataForm();
    const report = await new Promise((resolve, reject) =>
      form.submit(target.url, (error, res) => (error ? reject(error) : answer(res).then(resolve, reject))),
    );
    return { report, declared: report.contentLength };
  },
  async 'form-data-encoder'() {
    const encoder = await encoderForm();
    return { report: await viaHttpRequest(encoder.headers, encoder.encode()), declared: Number(encoder.contentLength) };
  },
  async 'native fetch'() {
    const response = await fetch(target.url, { method: 'POST', body: await nativeForm() });
    const report = await response.json();
    return { report, declared: report.contentLength ?? undefined };
  },
  curl: () => curl(false),
  'curl (Expect)': () => curl(true),
};
uploaders['ours https.request'] = uploaders['ours http.request'];
uploaders['ours upload(), fetch loaded'] = uploaders['ours upload()'];

/** curl -F, timed by /usr/bin/time for its CPU and peak RSS. */
function curl(expect) {
  const args = ['-f', '%e %U %S %M', 'curl', '-sS', '--fail'];
  if (!expect) args.push('-H', 'Expect:');
  if (target.ca) args.push('--cacert', join(root, 'fixtures', 'tls', 'ca.crt'));
  for (const [name, value] of fields) args.push('-F', `${name}=${value}`);
  for (const file of files) args.push('-F', `${file.name}=@${file.path}`);
  args.push(target.url);
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`curl exited ${code}: ${stderr.trim()}`));
      const [, user, sys, maxRssKiB] = stderr.trim().split('\n').at(-1).split(' ').map(Number);
      const report = JSON.parse(stdout);
      resolve({
        report,
        declared: report.contentLength ?? undefined,
        external: { cpuMs: (user + sys) * 1000, maxRssMiB: maxRssKiB / 1024 },
      });
    });
  });
}

/**
 * W7: `count` uploads at once through one keep-alive agent (an undici Agent for undici). For
 * curl, `count` processes: their CPU and their peak RSS are summed.
 */
async function concurrently(count, send) {
  const results = await Promise.all(Array.from({ length: count }, () => send()));
  const sum = (pick) => results.reduce((total, r) => total + pick(r), 0);
  return {
    reports: results.map((r) => ({ report: r.report, declared: r.declared })),
    bytes: sum((r) => r.report.bytes),
    declared: sum((r) => r.declared ?? r.report.bytes),
    ...(results[0].external
      ? { external: { cpuMs: sum((r) => r.external.cpuMs), maxRssMiB: sum((r) => r.external.maxRssMiB) } }
      : {}),
  };
}

/**
 * COLD: fresh processes, each timed from spawn to exit, with NODE_EXTRA_CA_CERTS removed from
 * their environment (it makes Node load a CA bundle at start) unless the subject keeps it.
 */
const IMPORT = "import('multipart-poster').then((m) => { if (typeof m.upload !== 'function') process.exit(3); })";
const coldCommands = {
  'node -e 0': { args: ['-e', '0'] },
  'node empty.mjs': { args: ['bench/empty.mjs'] },
  "ours import('multipart-poster')": { args: ['-e', IMPORT] },
  'ours --version (the bin)': {
    args: ['bin/multipart-poster.cjs', '--version'],
    stdout: `${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`,
  },
  'node -e 0, NODE_EXTRA_CA_CERTS kept': { args: ['-e', '0'], keepCaCerts: true },
};

function coldStart(samples) {
  const command = coldCommands[subject];
  const env = { ...process.env };
  if (!command.keepCaCerts) delete env.NODE_EXTRA_CA_CERTS;
  else if (!env.NODE_EXTRA_CA_CERTS) throw new Error('NODE_EXTRA_CA_CERTS is not set');
  const times = [];
  let check = 'ok';
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const child = spawnSync(process.execPath, command.args, { cwd: root, env, encoding: 'utf8' });
    times.push(performance.now() - started);
    if (child.status !== 0) check = `exit ${child.status}: ${child.stderr.trim().split('\n')[0]}`;
    else if (command.stdout !== undefined && child.stdout !== command.stdout)
      check = `printed ${JSON.stringify(child.stdout)}`;
  }
  times.sort((a, b) => a - b);
  return { ms: times[times.length >> 1], samples: times, check, bytes: 0, declared: null };
}

function openDataFiles() {
  let open = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(DATA_DIR)) open++;
    } catch {}
  }
  return open;
}

/**
 * Runs `work` and measures it: wall time, CPU of this process, peak RSS, with `loop` the
 * event-loop delay (monitorEventLoopDelay at 1 ms resolution: each sample is the time between
 * two ticks of a 1 ms timer, so an idle loop reads about 1 ms), with --probe-fds the most data
 * files open at once.
 */
async function timed(work, { loop = false } = {}) {
  let maxOpenFiles = 0;
  const sampler = probeFds ? setInterval(() => (maxOpenFiles = Math.max(maxOpenFiles, openDataFiles())), 1) : undefined;
  const histogram = loop ? monitorEventLoopDelay({ resolution: 1 }) : undefined;
  histogram?.enable();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    const result = await work();
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    histogram?.disable();
    return {
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      ...(loop
        ? { loop: { p99Ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6, meanMs: histogram.mean / 1e6 } }
        : {}),
      ...(probeFds ? { maxOpenFiles } : {}),
      ...result,
    };
  } finally {
    clearInterval(sampler);
  }
}

const MiB = 1024 * 1024;
const CLIENT_MODULES = {
  'ours undici.request': ['undici'],
  'ours got': ['got'],
  'ours axios': ['axios'],
  'form-data-encoder': ['formdata-node', 'formdata-node/file-from-path', 'form-data-encoder'],
};

/** Each kind of workload (see describeWorkload): what to set up, then what to measure. */
const kinds = {
  encode: () => timed(() => pick(encoders)()),
  upload: () => timed(() => pick(uploaders)()),
  'loop-encode': async () => {
    const checker = await startChecker();
    collectBeforeTheClock();
    return timed(() => pick(pipedEncoders)(checker), { loop: true });
  },
  'loop-upload': () => {
    // Node loads its fetch implementation (undici) at the first Response or Headers of a process.
    if (subject === 'ours upload(), fetch loaded') void new Response('');
    collectBeforeTheClock();
    return timed(() => pick(uploaders)(), { loop: true });
  },
  many: async () => {
    target.agent = new http.Agent({ keepAlive: true });
    if (subject === 'ours undici.request') target.dispatcher = new (await import('undici')).Agent();
    // The client's modules are loaded before the resident size the uploads are measured from.
    await Promise.all((CLIENT_MODULES[subject] ?? []).map((name) => import(name)));
    const startRssMiB = process.memoryUsage().rss / MiB;
    try {
      return { ...(await timed(() => concurrently(workload.count, pick(uploaders)))), startRssMiB };
    } finally {
      target.agent.destroy();
      await target.dispatcher?.close();
    }
  },
  cold: async () => coldStart(workload.samples),
  fetch: async () => fetchUpload(subject.startsWith('fetch Blob') ? 'blob' : 'stream'),
};

/**
 * FETCH: the runtime's own fetch with `await form.toBlob()` or the stream body (`duplex: 'half'`),
 * in whichever runtime runs this file (node 20/22/24, Bun, Deno). Peak RSS and CPU come from
 * /proc/self, which every runtime has on Linux.
 */
async function fetchUpload(mode) {
  const procStat = () => {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in ms (USER_HZ 100)
  };
  const cpuBefore = procStat();
  const started = performance.now();
  const form = await oursForm();
  const body = mode === 'blob' ? await form.toBlob() : form.body;
  const response = await fetch(target.url, {
    method: 'POST',
    body,
    headers: form.headers,
    ...(mode === 'stream' ? { duplex: 'half' } : {}),
  });
  const report = await response.json();
  const ms = performance.now() - started;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return { ms, cpuMs: procStat() - cpuBefore, maxRssMiB: Number(hwm[1]) / 1024, report, declared: form.contentLength };
}

function pick(table) {
  if (!table[subject]) throw new Error(`unknown subject ${subject} for ${workloadId}`);
  return table[subject];
}

/** Whether what the server (or check.mjs) received is what was sent, for the workloads that hash. */
function check(result) {
  if (result.check !== undefined) return result.check;
  if (!workload.verify) return undefined;
  const expected = expectedParts(workload);
  const uploads = result.reports ?? [{ report: result.report, declared: result.declared }];
  return uploads.map((u) => checkReport(u.report, u.declared, expected)).find((c) => c !== 'ok') ?? 'ok';
}

try {
  const result = await kinds[workload.kind]();
  process.stdout.write(
    `${JSON.stringify({
      ok: true,
      ms: result.ms,
      cpuMs: result.external?.cpuMs ?? result.cpuMs,
      maxRssMiB: result.external?.maxRssMiB ?? result.maxRssMiB,
      // W7: the resident size added per upload in flight (curl: each process's whole peak).
      ...(result.startRssMiB !== undefined
        ? {
            perUploadMiB: result.external
              ? result.external.maxRssMiB / workload.count
              : (result.maxRssMiB - result.startRssMiB) / workload.count,
          }
        : {}),
      bytes: result.report ? result.report.bytes : result.bytes,
      declared: result.declared ?? null,
      chunked: result.report?.chunked ?? null,
      progressCalls: result.progressCalls,
      check: check(result),
      ...(result.loop ? { loop: result.loop } : {}),
      ...(result.samples ? { samples: result.samples } : {}),
      ...(probeFds ? { maxOpenFiles: result.maxOpenFiles } : {}),
    })}\n`,
  );
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(error?.code ?? error?.message ?? error) })}\n`);
}
