// One measurement in a fresh process: `node bench/worker.mjs SUBJECT WORKLOAD quick|full [URL] [--probe-fds]`.
// Prints one JSON line: time, CPU, peak RSS, bytes produced (or received) and the declared length.
import { spawn } from 'node:child_process';
import { createReadStream, openAsBlob, readdirSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { multipartEncode, MultipartParam, upload } from 'multipart-poster';
import { DATA_DIR, describeWorkload, workloadSizes } from './workloads.mjs';

const [subject, workloadId, mode, url] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const probeFds = process.argv.includes('--probe-fds');
const { fields, files } = describeWorkload(workloadId, workloadSizes(mode === 'quick'));

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

async function oursForm(onProgress) {
  const params = [...fields, ...(await Promise.all(files.map((file) => MultipartParam.fromFile(file.name, file.path))))];
  return multipartEncode(params, onProgress ? { onProgress } : {});
}

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
    const declared = await new Promise((resolve, reject) => form.getLength((error, length) => (error ? reject(error) : resolve(length))));
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
};

async function answer(res) {
  const chunks = [];
  for await (const chunk of res) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString());
}

function viaHttpRequest(headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers });
    req.on('response', (res) => answer(res).then(resolve, reject)).on('error', reject);
    pipeline(Readable.from(body), req).catch(reject);
  });
}

/** W5: upload the workload to the server in another process. */
const uploaders = {
  async 'ours upload()'() {
    const form = await oursForm();
    const report = await (await upload(url, form)).json();
    return { report, declared: form.contentLength };
  },
  async 'ours http.request'() {
    const form = await oursForm();
    return { report: await viaHttpRequest(form.headers, form.body), declared: form.contentLength };
  },
  async 'form-data'() {
    const form = await formDataForm();
    const report = await new Promise((resolve, reject) => form.submit(url, (error, res) => (error ? reject(error) : answer(res).then(resolve, reject))));
    return { report, declared: report.contentLength };
  },
  async 'form-data-encoder'() {
    const encoder = await encoderForm();
    return { report: await viaHttpRequest(encoder.headers, encoder.encode()), declared: Number(encoder.contentLength) };
  },
  async 'native fetch'() {
    const response = await fetch(url, { method: 'POST', body: await nativeForm() });
    const report = await response.json();
    return { report, declared: report.contentLength ?? undefined };
  },
  curl: () => curl(false),
  'curl (Expect)': () => curl(true),
};

/** curl -F, timed by /usr/bin/time for its CPU and peak RSS. */
function curl(expect) {
  const args = ['-f', '%e %U %S %M', 'curl', '-sS', '--fail'];
  if (!expect) args.push('-H', 'Expect:');
  for (const [name, value] of fields) args.push('-F', `${name}=${value}`);
  for (const file of files) args.push('-F', `${file.name}=@${file.path}`);
  args.push(url);
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
      resolve({ report, declared: report.contentLength ?? undefined, external: { cpuMs: (user + sys) * 1000, maxRssMiB: maxRssKiB / 1024 } });
    });
  });
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

const run = url ? uploaders[subject] : encoders[subject];
if (!run) throw new Error(`unknown subject ${subject}`);
let maxOpenFiles = 0;
const sampler = probeFds ? setInterval(() => (maxOpenFiles = Math.max(maxOpenFiles, openDataFiles())), 1) : undefined;
const usageBefore = process.resourceUsage();
const started = performance.now();
try {
  const result = await run();
  const ms = performance.now() - started;
  const usage = process.resourceUsage();
  clearInterval(sampler);
  const bytes = result.report ? result.report.bytes : result.bytes;
  process.stdout.write(
    `${JSON.stringify({
      ok: true,
      ms,
      cpuMs: result.external?.cpuMs ?? (usage.userCPUTime + usage.systemCPUTime - usageBefore.userCPUTime - usageBefore.systemCPUTime) / 1000,
      maxRssMiB: result.external?.maxRssMiB ?? usage.maxRSS / 1024,
      bytes,
      declared: result.declared ?? null,
      chunked: result.report?.chunked ?? null,
      progressCalls: result.progressCalls,
      ...(probeFds ? { maxOpenFiles } : {}),
    })}\n`,
  );
} catch (error) {
  clearInterval(sampler);
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(error?.code ?? error?.message ?? error) })}\n`);
}
