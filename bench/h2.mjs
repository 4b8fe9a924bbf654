// node bench/h2.mjs [--quick] [--rounds N] (after `npm run build`): upload() over HTTP/2, beside curl and got.
// W5-h2: W1 (one file + 2 fields) over h2c (prior knowledge) to a busboy server in another process
// (http2-wrapper, under got, speaks no h2c: curl alone beside us there);
// W6-h2: the same over h2 on TLS; MANY: 2,000 × 4 KiB files as 2,000 uploads, over one HTTP/2
// connection and over HTTP/1.1 with keep-alive; RATE: maxRate's accuracy over 10 s (HTTP/1.1 and
// HTTP/2), with the event loop's delay meanwhile. Every subject runs in a fresh process; rounds are
// interleaved; medians are printed as Markdown (bench/README.md keeps a run's figures).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { checkReport, parseMultipart } from './verify.mjs';
import { describeWorkload, DATA_DIR, expectedParts, prepareData, workloadSizes } from './workloads.mjs';

const root = join(import.meta.dirname, '..');
const caPath = join(root, 'fixtures', 'tls', 'ca.crt');
const MiB = 1024 * 1024;
const [mode, arg] = process.argv.slice(2);

// ---- the server: busboy behind Node's http2 (h2c, or TLS with HTTP/1.1 allowed too) ----

async function serve(kind) {
  const http2 = await import('node:http2');
  const fixtures = join(root, 'fixtures', 'tls');
  let connections = 0;
  const handle = async (req, res) => {
    if (req.url === '/connections') return res.end(JSON.stringify({ connections }));
    if (req.url === '/timed') return timed(req, res);
    const { status, body } = await parseMultipart(req, req.headers, { sha256: req.url === '/verify' });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server =
    kind === 'h2c'
      ? http2.createServer(handle)
      : http2.createSecureServer(
          {
            cert: readFileSync(join(fixtures, 'server.crt')),
            key: readFileSync(join(fixtures, 'server.key')),
            allowHTTP1: true,
          },
          handle,
        );
  server.on(kind === 'h2c' ? 'connection' : 'secureConnection', () => connections++);
  server.listen(0, '127.0.0.1', 511, () =>
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`),
  );
}

/** RATE: when the first and the last byte of the body came, and how many came after the first chunk. */
function timed(req, res) {
  let first;
  let last;
  let bytes = 0;
  let firstChunk = 0;
  req.on('data', (chunk) => {
    last = performance.now();
    if (first === undefined) {
      first = last;
      firstChunk = chunk.length;
    }
    bytes += chunk.length;
  });
  req.on('end', () => res.end(JSON.stringify({ bytes, afterFirst: bytes - firstChunk, ms: last - first })));
}

// ---- one subject in a fresh process: prints { ms, cpuMs, report(s) } ----

async function client(spec) {
  const lib = await import(join(root, 'dist', 'index.js'));
  const ca = readFileSync(caPath);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await subjects[spec.subject](lib, spec, ca);
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    `${JSON.stringify({ ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000, ...result })}\n`,
  );
  process.exit(0); // pooled sessions and keep-alive sockets would otherwise linger a moment
}

async function w1Form(lib, workload) {
  return lib.multipartEncode([
    ...workload.fields,
    ...(await Promise.all(workload.files.map((f) => lib.MultipartParam.fromFile(f.name, f.path)))),
  ]);
}

const subjects = {
  async 'ours upload()'(lib, spec, ca) {
    const form = await w1Form(lib, spec.workload);
    const response = await lib.upload(spec.url, form, { http2: true, tls: { ca }, expectContinue: false });
    return { report: await response.json(), declared: form.contentLength };
  },
  async 'got (http2-wrapper)'(lib, spec, ca) {
    const { default: got } = await import('got');
    const form = await w1Form(lib, spec.workload);
    const options = { http2: true, body: form.body, headers: form.headers, https: { certificateAuthority: ca } };
    return { report: await got.post(spec.url, options).json(), declared: form.contentLength };
  },
  async many(lib, spec, ca) {
    const https = await import('node:https');
    const agent = spec.protocol === 'h1' ? new https.Agent({ keepAlive: true, maxSockets: 100, ca }) : undefined;
    const send = async (path) => {
      const form = await lib.multipartEncode({ file: await lib.MultipartParam.fromFile('file', path) });
      const options = spec.protocol === 'h2' ? { http2: true, tls: { ca } } : { http2: false, agent, tls: { ca } };
      const report = await (await lib.upload(spec.url, form, options)).json();
      return report.bytes === form.contentLength ? 0 : 1;
    };
    let bad = 0;
    if (spec.atOnce) bad = (await Promise.all(spec.paths.map(send))).reduce((a, b) => a + b, 0);
    else for (const path of spec.paths) bad += await send(path);
    return { bad };
  },
  async rate(lib, spec, ca) {
    const { monitorEventLoopDelay } = await import('node:perf_hooks');
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    let progress = 0;
    const body = await lib.rawBody(Buffer.alloc(spec.rate * spec.seconds, 7));
    const options = {
      http2: spec.protocol === 'h2',
      tls: { ca },
      maxRate: spec.rate,
      onUploadProgress: () => progress++,
    };
    const report = await (await lib.upload(spec.url, body, options)).json();
    loop.disable();
    return { report, progress, loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6 };
  },
};

// ---- the orchestration ----

function run(command, args, { onLine } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (onLine && stdout.includes('\n')) onLine(stdout.split('\n')[0], child);
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) =>
      code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`${command} ${code}: ${stderr}`)),
    );
  });
}

function startServer(kind) {
  return new Promise((resolve, reject) => {
    run(process.execPath, [join(import.meta.dirname, 'h2.mjs'), '--serve', kind], {
      onLine: (line, child) => resolve({ port: JSON.parse(line).port, child }),
    }).catch(reject);
  });
}

/** curl -F over HTTP/2, timed by /usr/bin/time (its CPU includes the process start). */
async function curl(url, workload, flag) {
  const args = ['-f', '%e %U %S', 'curl', '-sS', '--fail', flag, '--cacert', caPath];
  for (const [name, value] of workload.fields) args.push('-F', `${name}=${value}`);
  for (const file of workload.files) args.push('-F', `${file.name}=@${file.path}`);
  const { stdout, stderr } = await run('/usr/bin/time', [...args, url]);
  const [elapsed, user, sys] = stderr.trim().split('\n').at(-1).split(' ').map(Number);
  const report = JSON.parse(stdout);
  return { ms: elapsed * 1000, cpuMs: (user + sys) * 1000, report, declared: report.contentLength };
}

async function measure(spec) {
  if (spec.subject.startsWith('curl')) return curl(spec.url, spec.workload, spec.flag);
  const { stdout } = await run(process.execPath, [
    join(import.meta.dirname, 'h2.mjs'),
    '--client',
    JSON.stringify(spec),
  ]);
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

async function connectionsOf(origin) {
  const { stdout } = await run('curl', ['-sS', '--http2', '--cacert', caPath, `${origin}/connections`]);
  return JSON.parse(stdout).connections;
}

/** `--rounds N`, a whole number from 1, or undefined. */
function roundsOption() {
  const at = process.argv.indexOf('--rounds');
  const rounds = at === -1 ? undefined : Number(process.argv[at + 1]);
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1))
    throw new Error('--rounds takes a whole number from 1');
  return rounds;
}

async function main(quick) {
  // --rounds N: the rounds of W5-h2 and W6-h2, and at most that many of MANY (npm run bench -- --quick passes 1).
  const rounds = roundsOption() ?? (quick ? 2 : 5);
  const sizes = workloadSizes(quick);
  prepareData(sizes);
  const w1 = describeWorkload('W5', sizes);
  const expected = expectedParts(w1);
  const h2c = await startServer('h2c');
  const tls = await startServer('h2');
  const servers = [h2c, tls];
  try {
    const lines = [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0]?.model}), load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(
          ' ',
        )} at the start; Node ${process.version}; ${rounds} interleaved rounds, medians. The machine is shared with other work: figures vary from run to run.`,
      '',
    ];
    lines.push(...(await uploadRows(w1, expected, h2c.port, tls.port, rounds, sizes)));
    lines.push(...(await manyRows(sizes, tls.port, Math.min(rounds, quick ? 1 : 3))));
    lines.push(...(await rateRows(tls.port, quick)));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const server of servers) server.child.kill();
  }
}

async function uploadRows(workload, expected, h2cPort, tlsPort, rounds, sizes) {
  const rows = [
    ['W5-h2', 'ours upload()', `http://127.0.0.1:${h2cPort}/verify`],
    ['W5-h2', 'curl --http2-prior-knowledge', `http://127.0.0.1:${h2cPort}/verify`, '--http2-prior-knowledge'],
    ['W6-h2', 'ours upload()', `https://127.0.0.1:${tlsPort}/verify`],
    ['W6-h2', 'got (http2-wrapper)', `https://127.0.0.1:${tlsPort}/verify`],
    ['W6-h2', 'curl --http2', `https://127.0.0.1:${tlsPort}/verify`, '--http2'],
  ];
  const results = rows.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, [, subject, url, flag]] of rows.entries()) {
      const result = await measure({ subject, url, flag, workload });
      const problem = checkReport(result.report, result.declared, expected);
      if (problem !== 'ok') throw new Error(`${subject} ${url}: ${problem}`);
      results[i].push(result);
    }
  }
  const out = [
    `W5-h2 / W6-h2: one ${sizes.w1Bytes / MiB} MiB file + 2 fields, every part's SHA-256 checked by the server`,
    '',
    '| workload | subject | time | client CPU | vs curl |',
    '| --- | --- | ---: | ---: | ---: |',
  ];
  for (const [i, [id, subject]] of rows.entries()) {
    const ms = median(results[i].map((r) => r.ms));
    const curlIndex = rows.findIndex(([other, name]) => other === id && name.startsWith('curl'));
    const ratio = median(results[i].map((r, round) => r.ms / results[curlIndex][round].ms));
    out.push(
      `| ${id} | ${subject} | ${fmt(ms)} | ${fmt(median(results[i].map((r) => r.cpuMs)))} | ${ratio.toFixed(2)}× |`,
    );
  }
  return [...out, ''];
}

async function manyRows(sizes, tlsPort, rounds) {
  const count = 2000;
  const paths = Array.from({ length: count }, (_, i) => join(DATA_DIR, 'w4', `${i % sizes.w4Files}.bin`));
  const url = `https://127.0.0.1:${tlsPort}/upload`;
  const rows = [
    ['HTTP/2, all at once (one connection, ≤ 100 streams)', { protocol: 'h2', atOnce: true }],
    ['HTTP/1.1 keep-alive, all at once (≤ 100 sockets)', { protocol: 'h1', atOnce: true }],
    ['HTTP/2, one after another', { protocol: 'h2', atOnce: false }],
    ['HTTP/1.1 keep-alive, one after another', { protocol: 'h1', atOnce: false }],
  ];
  const results = rows.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, [, spec]] of rows.entries()) {
      const before = await connectionsOf(`https://127.0.0.1:${tlsPort}`);
      const result = await measure({ subject: 'many', url, paths, ...spec });
      if (result.bad) throw new Error(`MANY: ${result.bad} uploads arrived with the wrong length`);
      result.connections = (await connectionsOf(`https://127.0.0.1:${tlsPort}`)) - before - 1;
      results[i].push(result);
    }
  }
  const out = [
    `MANY: ${count.toLocaleString('en')} files × 4 KiB as ${count.toLocaleString('en')} uploads over TLS to one server (Node http2, HTTP/1.1 allowed)`,
    '',
    '| how | time | per upload | client CPU | TLS connections |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const [i, [label]] of rows.entries()) {
    const ms = median(results[i].map((r) => r.ms));
    out.push(
      `| ${label} | ${fmt(ms)} | ${((ms / count) * 1000).toFixed(0)} µs | ${fmt(median(results[i].map((r) => r.cpuMs)))} | ${median(results[i].map((r) => r.connections))} |`,
    );
  }
  return [...out, ''];
}

async function rateRows(tlsPort, quick) {
  const seconds = quick ? 3 : 10;
  const out = [
    `RATE: maxRate over ${seconds} s (the server times the body from its first byte to its last), with progress on, the HTTP/1.1 and HTTP/2 uploads of each rate at the same time; the event loop sampled by a 10 ms timer (an idle loop reads about 10 ms)`,
    '',
    '| protocol | target | achieved | error | progress calls | event loop p99 / max |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  // Both protocols at once, for each rate (they cost the machine little at these rates): half the run's time.
  const url = `https://127.0.0.1:${tlsPort}/timed`;
  const rates = [256 * 1024, 4 * MiB];
  const measured = new Map();
  for (const rate of rates) {
    const [h1, h2] = await Promise.all(
      ['h1', 'h2'].map((protocol) => measure({ subject: 'rate', url, protocol, rate, seconds })),
    );
    measured.set(`h1 ${rate}`, h1).set(`h2 ${rate}`, h2);
  }
  for (const protocol of ['h1', 'h2']) {
    for (const rate of rates) {
      const result = measured.get(`${protocol} ${rate}`);
      const achieved = result.report.afterFirst / (result.report.ms / 1000);
      const error = ((achieved / rate - 1) * 100).toFixed(2);
      out.push(
        `| ${protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1'} | ${rate / 1024} KiB/s | ${(achieved / 1024).toFixed(1)} KiB/s | ${error}% | ${result.progress} | ${result.loopP99Ms.toFixed(1)} / ${result.loopMaxMs.toFixed(1)} ms |`,
      );
    }
  }
  return [...out, ''];
}

// Last: every function and table above is defined by now.
if (mode === '--serve') await serve(arg);
else if (mode === '--client') await client(JSON.parse(arg));
else await main(process.argv.includes('--quick'));
