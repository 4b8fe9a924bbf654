// node bench/ab.mjs A.js B.js [--workload W3|W4-loop|W5|W6] [--rounds N] [--curl]: two builds of the
// library (each a built index.js, e.g. main's dist and this tree's) side by side, in fresh processes,
// A and B alternating with the order flipped every round. Prints the medians of A and B and of the
// same-round ratios B/A: on a shared machine, where other processes move whole rounds, those ratios
// hold better than either time. W3 encodes and drains 100,000 text fields; W4-loop encodes W4's
// 2,000 files into a pipe to `cat` under the bench's event-loop monitor (callsMs: how long the
// caller's 2,000 fromFile calls hold the loop before their first await). W5 uploads W1 (1 GiB + 2
// fields) with upload() to bench/server.mjs in another process, W6 the same over TLS with the server
// hashing; cpuMs is the client's own (process.cpuUsage, every thread), as the bench counts it. With
// --curl, `curl -F` of the same form runs in every round too (its CPU from /usr/bin/time) and each
// build's same-round ratio to it is printed. Run `npm run bench` once first (the data in bench/.data).
// Beside each median, the least value seen: the run the rest of the machine disturbed least.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { collectBeforeTheClock } from './full-gc.mjs';
import { describeWorkload, workloadSizes } from './workloads.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const TLS_CA = join(import.meta.dirname, '..', 'fixtures', 'tls', 'ca.crt');

async function measureW3({ multipartEncode }) {
  const fields = Array.from({ length: 100_000 }, (_, i) => [`f${i}`, `value-${String(i).padStart(12, '0')}`]);
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((entry) => (gcMs += entry.duration)));
  observer.observe({ entryTypes: ['gc'] });
  const cpu = process.cpuUsage();
  const started = performance.now();
  const form = await multipartEncode(fields);
  for await (const _chunk of form.body);
  const ms = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  await new Promise((done) => setTimeout(done, 10));
  return { ms, cpuMs: (user + system) / 1000, gcMs };
}

async function measureW4Loop({ multipartEncode, MultipartParam }) {
  const dir = join(import.meta.dirname, '.data', 'w4');
  const files = readdirSync(dir).map((name, i) => ({ name: `f${i}`, path: join(dir, name) }));
  const sink = spawn('sh', ['-c', 'cat > /dev/null'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const timer = setInterval(() => {}, 1);
  collectBeforeTheClock(); // as bench/worker.mjs does for the loop workloads
  histogram.enable();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const calls = files.map((file) => MultipartParam.fromFile(file.name, file.path));
  const callsMs = performance.now() - started; // the caller's 2,000 calls, before their first await
  const params = await Promise.all(calls);
  const form = await multipartEncode([['title', 'x'], ['note', 'y'], ...params]);
  for await (const chunk of form.body) {
    if (!sink.stdin.write(chunk)) await new Promise((done) => sink.stdin.once('drain', done));
  }
  sink.stdin.end();
  const ms = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  histogram.disable();
  clearInterval(timer);
  return {
    ms,
    cpuMs: (user + system) / 1000,
    callsMs,
    p99Ms: histogram.percentile(99) / 1e6,
    maxMs: histogram.max / 1e6,
  };
}

/** W5/W6: one upload() of W1's form; the server's count of the bytes must be the Content-Length. */
async function measureUpload({ multipartEncode, MultipartParam, upload }, url) {
  const { fields, files } = describeWorkload('W5', workloadSizes(false));
  const options = url.startsWith('https:') ? { tls: { ca: readFileSync(TLS_CA) } } : {};
  const cpu = process.cpuUsage();
  const started = performance.now();
  const params = [
    ...fields,
    ...(await Promise.all(files.map((file) => MultipartParam.fromFile(file.name, file.path)))),
  ];
  const form = await multipartEncode(params);
  const report = await (await upload(url, form, options)).json();
  const ms = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  if (report.bytes !== form.contentLength) throw new Error(`the server received ${report.bytes} bytes`);
  return { ms, cpuMs: (user + system) / 1000 };
}

/** `curl -F` of W1's form to the same server: its wall and CPU time, from /usr/bin/time. */
function curlUpload(url) {
  const { fields, files } = describeWorkload('W5', workloadSizes(false));
  const form = [...fields.map(([name, value]) => `${name}=${value}`), ...files.map((f) => `${f.name}=@${f.path}`)];
  const tls = url.startsWith('https:') ? ['--cacert', TLS_CA] : [];
  const curl = ['curl', '-sS', '--fail', '-o', '/dev/null', '-H', 'Expect:', ...tls, ...form.flatMap((f) => ['-F', f])];
  const run = spawnSync('/usr/bin/time', ['-f', '%e %U %S', ...curl, url], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`curl failed: ${run.stderr}`);
  const [seconds, user, system] = run.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { ms: seconds * 1000, cpuMs: (user + system) * 1000 };
}

const MEASURES = { W3: measureW3, 'W4-loop': measureW4Loop, W5: measureUpload, W6: measureUpload };

/** Starts bench/server.mjs (W6: TLS, hashing, as the bench runs it) and resolves its URL. */
async function startServer(workload) {
  const tls = workload === 'W6';
  const flags = tls ? ['--tls', '--sha256'] : [];
  const server = spawn(process.execPath, [join(import.meta.dirname, 'server.mjs'), ...flags], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await new Promise((done) => server.stdout.once('data', (chunk) => done(String(chunk).split('\n'))));
  return { server, url: `${tls ? 'https' : 'http'}://127.0.0.1:${JSON.parse(line).port}/` };
}

const median = (values) => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function printSide(name, results, key) {
  const values = results.map((r) => r[key]);
  return `${name} ${median(values).toFixed(1).padStart(7)} (least ${Math.min(...values).toFixed(1)})`;
}

function printResults(results, withCurl) {
  for (const key of Object.keys(results.A[0])) {
    const ratio = median(results.A.map((r, i) => results.B[i][key] / r[key]));
    const line = `  ${key.padEnd(6)} ${printSide('A', results.A, key)}  ${printSide('B', results.B, key)}  B/A ${ratio.toFixed(3)}`;
    if (!withCurl) {
      console.log(line);
      continue;
    }
    const toCurl = (side) => median(results[side].map((r, i) => r[key] / results.curl[i][key])).toFixed(3);
    console.log(`${line}  ${printSide('curl', results.curl, key)}  A/curl ${toCurl('A')}  B/curl ${toCurl('B')}`);
  }
}

if (args[0] === '--run') {
  const library = await import(pathToFileURL(resolve(args[1])).href);
  process.stdout.write(`${JSON.stringify(await MEASURES[args[2]](library, args[3]))}\n`);
} else {
  const [a, b] = args.filter((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const workload = option('--workload', 'W3');
  const rounds = Number(option('--rounds', '10'));
  const withCurl = args.includes('--curl') && (workload === 'W5' || workload === 'W6');
  const { server, url } = workload === 'W5' || workload === 'W6' ? await startServer(workload) : {};
  const run = (library) =>
    JSON.parse(
      execFileSync(process.execPath, [import.meta.filename, '--run', library, workload, url ?? ''], {
        encoding: 'utf8',
      }),
    );
  const results = { A: [], B: [], curl: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 ? ['B', 'A'] : ['A', 'B']) results[side].push(run(side === 'A' ? a : b));
      if (withCurl) results.curl.push(curlUpload(url));
    }
  } finally {
    server?.kill();
  }
  console.log(`${workload}, ${rounds} rounds; A = ${a}, B = ${b}`);
  printResults(results, withCurl);
}
