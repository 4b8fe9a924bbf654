// node bench/ab.mjs A.js B.js [--workload W3|W4-loop] [--rounds N]: two builds of the library (each
// a built index.js, e.g. main's dist and this tree's) side by side, in fresh processes, A and B
// alternating with the order flipped every round. Prints the medians of A and B and of the
// same-round ratios B/A: on a shared machine, where other processes move whole rounds, those
// ratios hold better than either time. W3 encodes and drains 100,000 text fields; W4-loop encodes
// W4's 2,000 files into a pipe to `cat` under the bench's event-loop monitor (callsMs: how long the
// caller's 2,000 fromFile calls hold the loop before their first await). Run `npm run bench`
// once first (W4-loop reads its files from bench/.data/w4). Beside each median, the least value
// seen: the run the rest of the machine disturbed least.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);

/** One measurement, in this (fresh) process: `--run LIBRARY WORKLOAD`, one JSON line. */
async function measure(library, workload) {
  const { multipartEncode, MultipartParam } = await import(pathToFileURL(resolve(library)).href);
  if (workload === 'W3') {
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
  const dir = join(import.meta.dirname, '.data', 'w4');
  const files = readdirSync(dir).map((name, i) => ({ name: `f${i}`, path: join(dir, name) }));
  const sink = spawn('sh', ['-c', 'cat > /dev/null'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const timer = setInterval(() => {}, 1);
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

if (args[0] === '--run') {
  process.stdout.write(`${JSON.stringify(await measure(args[1], args[2]))}\n`);
} else {
  const [a, b] = args.filter((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const workload = option('--workload', 'W3');
  const rounds = Number(option('--rounds', '10'));
  const run = (library) =>
    JSON.parse(
      execFileSync(process.execPath, [import.meta.filename, '--run', library, workload], { encoding: 'utf8' }),
    );
  const results = { A: [], B: [] };
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 ? ['B', 'A'] : ['A', 'B']) results[side].push(run(side === 'A' ? a : b));
  }
  const median = (values) => {
    const sorted = [...values].sort((x, y) => x - y);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  console.log(`${workload}, ${rounds} rounds; A = ${a}, B = ${b}`);
  for (const key of Object.keys(results.A[0])) {
    const ratio = median(results.A.map((r, i) => results.B[i][key] / r[key]));
    const [ma, mb] = [median(results.A.map((r) => r[key])), median(results.B.map((r) => r[key]))];
    const [la, lb] = [Math.min(...results.A.map((r) => r[key])), Math.min(...results.B.map((r) => r[key]))];
    console.log(
      `  ${key.padEnd(6)} A ${ma.toFixed(1).padStart(7)} (least ${la.toFixed(1)})  B ${mb.toFixed(1).padStart(7)} (least ${lb.toFixed(1)})  B/A ${ratio.toFixed(3)}`,
    );
  }
}
