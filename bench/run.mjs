// npm run bench [-- --quick]: every subject on every workload, each run in a fresh
// process, a warm-up then interleaved rounds; medians, ranges and same-round ratios
// go to bench/RESULTS.md and the README table.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { prepareData, workloadSizes } from './workloads.mjs';

const quick = process.argv.includes('--quick');
// --only W5 (or W1,W3...) measures some workloads alone; results then go to stdout only.
const only = process.argv.find((arg, i) => process.argv[i - 1] === '--only')?.split(',');
const ROUNDS = quick ? 3 : 5;
const SLOW_MS = 20_000; // a subject slower than this is measured once
const RUN_TIMEOUT_MS = 180_000;
const root = join(import.meta.dirname, '..');
const sizes = workloadSizes(quick);
const MiB = 1024 * 1024;

const PEERS = ['form-data', 'form-data-encoder', 'native'];
const WORKLOADS = [
  { id: 'W1', title: `one ${sizes.w1Bytes / MiB} MiB file + 2 fields`, subjects: ['ours', 'ours+progress', ...PEERS, 'raw'] },
  { id: 'W2', title: `${sizes.w2Files} files × 8 MiB`, subjects: ['ours', ...PEERS, 'raw'] },
  { id: 'W3', title: `${sizes.w3Fields.toLocaleString('en')} text fields of ~20 bytes`, subjects: ['ours', ...PEERS, 'ours length'] },
  { id: 'W3-small', title: `${sizes.w3Small.toLocaleString('en')} text fields (linearity check)`, subjects: ['ours', ...PEERS] },
  { id: 'W4', title: `${sizes.w4Files.toLocaleString('en')} files × 4 KiB`, subjects: ['ours', ...PEERS, 'raw'], probeFds: true },
  {
    id: 'W5',
    title: `W1 uploaded to a busboy server in another process`,
    subjects: ['ours upload()', 'ours http.request', 'form-data', 'form-data-encoder', 'native fetch', 'curl', 'curl (Expect)'],
    server: true,
    rounds: ROUNDS + 2, // the noisiest workload: two processes share the machine
  },
  {
    id: 'W5-pinned',
    title: 'W5 with the server pinned to core 0 and the client to core 1, as if on separate machines',
    subjects: ['ours upload()', 'ours http.request', 'form-data', 'form-data-encoder', 'native fetch', 'curl', 'curl (Expect)'],
    server: true,
    pinned: true,
    rounds: ROUNDS + 2,
  },
  { id: 'BIG', title: `one ${sizes.bigBytes / MiB / 1024} GiB sparse file (memory)`, subjects: ['ours', 'ours+progress', 'raw'], rounds: 2 },
];
const isOurs = (subject) => subject.startsWith('ours');
const isPeer = (subject) => !isOurs(subject) && subject !== 'raw';

/** `taskset` pins a process to one core (util-linux); the pinned workload needs it. */
const pin = (core) => `exec taskset -c ${core} `;

function runWorker(subject, workload, url, extra = [], pinned = false) {
  const args = ['bench/worker.mjs', subject, workload, quick ? 'quick' : 'full', ...(url ? [url] : []), ...extra];
  const command = `ulimit -n 1024 && ${pinned ? pin(1) : 'exec '}${JSON.stringify(process.execPath)} ${args.map((a) => JSON.stringify(a)).join(' ')}`;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').at(-1);
      try {
        resolve(JSON.parse(line));
      } catch {
        resolve({ ok: false, error: code === null ? `timed out after ${RUN_TIMEOUT_MS / 1000} s` : (err.trim().split('\n').find((l) => /Error/.test(l)) ?? `exit ${code}`) });
      }
    });
  });
}

async function startServer(pinned) {
  const child = spawn('bash', ['-c', `${pinned ? pin(0) : 'exec '}${JSON.stringify(process.execPath)} bench/server.mjs`], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (c) => resolve(JSON.parse(c.toString()).port)));
  return { url: `http://127.0.0.1:${port}/upload`, stop: () => child.kill() };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function measure(workload) {
  const server = workload.server ? await startServer(workload.pinned) : undefined;
  const runs = Object.fromEntries(workload.subjects.map((s) => [s, []]));
  const slow = new Set();
  const log = (subject, result, label) =>
    process.stderr.write(`  ${label.padEnd(8)} ${subject.padEnd(18)} ${result.ok ? `${result.ms.toFixed(0)} ms` : `failed: ${result.error}`}\n`);
  process.stderr.write(`${workload.id}: ${workload.title}\n`);
  for (const subject of workload.subjects) {
    const result = await runWorker(subject, workload.id, server?.url, [], workload.pinned);
    log(subject, result, 'warm-up');
    if (!result.ok || result.ms > SLOW_MS) {
      slow.add(subject);
      runs[subject].push({ ...result, round: 0 });
    }
  }
  const rounds = workload.rounds ?? ROUNDS;
  for (let round = 1; round <= rounds; round++) {
    const order = workload.subjects.filter((s) => !slow.has(s));
    const rotated = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
    for (const subject of rotated) {
      const result = await runWorker(subject, workload.id, server?.url, [], workload.pinned);
      log(subject, result, `round ${round}`);
      runs[subject].push({ ...result, round });
    }
  }
  const fds = {};
  if (workload.probeFds) {
    for (const subject of workload.subjects.filter((s) => s !== 'ours length')) {
      const probe = await runWorker(subject, workload.id, undefined, ['--probe-fds']);
      fds[subject] = probe.ok ? probe.maxOpenFiles : probe.error;
    }
  }
  server?.stop();
  return { ...workload, runs, slow: [...slow], fds };
}

function summarize(result) {
  const rows = result.subjects.map((subject) => {
    const ok = result.runs[subject].filter((r) => r.ok);
    const failed = result.runs[subject].find((r) => !r.ok);
    if (ok.length === 0) return { subject, error: failed?.error ?? 'no run' };
    const pick = (key) => ok.map((r) => r[key]);
    const lengthChecks = ok.map((r) => (r.declared === null ? 'n/a' : r.bytes === r.declared ? 'ok' : `MISMATCH ${r.bytes}≠${r.declared}`));
    return {
      subject,
      runs: ok.length,
      ms: median(pick('ms')),
      msMin: Math.min(...pick('ms')),
      msMax: Math.max(...pick('ms')),
      cpuMs: median(pick('cpuMs')),
      rssMiB: median(pick('maxRssMiB')),
      rssMax: Math.max(...pick('maxRssMiB')),
      length: subject === 'ours length' ? 'n/a' : lengthChecks.find((c) => c !== 'ok') ?? 'ok',
      chunked: ok.some((r) => r.chunked === true),
      fds: result.fds[subject],
    };
  });
  // Ratios within each round: ours against the best peer and against the raw read of that round.
  const ratios = {};
  const roundIds = [...new Set(Object.values(result.runs).flat().filter((r) => r.ok && r.round > 0).map((r) => r.round))];
  for (const subject of result.subjects.filter(isOurs)) {
    const vsPeer = [];
    const vsRaw = [];
    const vsCurl = [];
    const vsOurs = [];
    for (const round of roundIds) {
      const inRound = (s) => result.runs[s]?.find((r) => r.round === round && r.ok);
      const mine = inRound(subject);
      if (!mine) continue;
      const peers = result.subjects.filter(isPeer).map(inRound).filter(Boolean);
      if (peers.length) vsPeer.push(mine.ms / Math.min(...peers.map((p) => p.ms)));
      if (inRound('raw')) vsRaw.push(mine.ms / inRound('raw').ms);
      if (inRound('curl')) vsCurl.push(mine.ms / inRound('curl').ms);
      if (subject !== 'ours' && inRound('ours')) vsOurs.push(mine.ms / inRound('ours').ms);
    }
    ratios[subject] = {
      vsBestPeer: vsPeer.length ? median(vsPeer) : undefined,
      vsRaw: vsRaw.length ? median(vsRaw) : undefined,
      vsCurl: vsCurl.length ? median(vsCurl) : undefined,
      vsOurs: vsOurs.length ? median(vsOurs) : undefined,
    };
  }
  return { rows, ratios };
}

const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const times = (x) => (x === undefined ? '–' : `${x.toFixed(2)}×`);

function table(result, summary) {
  const lines = [
    `### ${result.id}: ${result.title}`,
    '',
    '| subject | time (median) | min–max | CPU | peak RSS | length check | ' + (result.probeFds ? 'most files open |' : '') + '',
    '|---|---:|---:|---:|---:|---|' + (result.probeFds ? '---:|' : ''),
  ];
  for (const row of summary.rows) {
    if (row.error) {
      lines.push(`| ${row.subject} | failed: ${row.error} | | | | |${result.probeFds ? ` ${result.fds[row.subject] ?? ''} |` : ''}`);
      continue;
    }
    const once = row.runs === 1 && result.slow.includes(row.subject) ? ' (1 run)' : '';
    lines.push(
      `| ${row.subject}${once} | ${fmt(row.ms)} | ${fmt(row.msMin)}–${fmt(row.msMax)} | ${fmt(row.cpuMs)} | ${row.rssMiB.toFixed(0)} MiB | ${row.length}${row.chunked ? ' (chunked)' : ''} |` +
        (result.probeFds ? ` ${row.fds ?? ''} |` : ''),
    );
  }
  lines.push('');
  for (const [subject, r] of Object.entries(summary.ratios)) {
    const parts = [];
    if (r.vsBestPeer !== undefined) parts.push(`${times(r.vsBestPeer)} the best peer's time`);
    if (r.vsRaw !== undefined) parts.push(`${times(r.vsRaw)} the raw read's`);
    if (r.vsCurl !== undefined) parts.push(`${times(r.vsCurl)} curl's`);
    if (r.vsOurs !== undefined) parts.push(`${times(r.vsOurs)} plain ours'`);
    if (parts.length) lines.push(`- ${subject}: ${parts.join(', ')} (median of same-round ratios)`);
  }
  lines.push('');
  return lines.join('\n');
}

function versions() {
  const pkg = (name) => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  let curl = 'not found';
  try {
    curl = execFileSync('curl', ['--version'], { encoding: 'utf8' }).split('\n')[0].split(' ').slice(0, 2).join(' ');
  } catch {}
  return `Node ${process.version}; form-data ${pkg('form-data')}; form-data-encoder ${pkg('form-data-encoder')} with formdata-node ${pkg('formdata-node')}; ${curl}`;
}

const started = Date.now();
prepareData(sizes);
const results = [];
for (const workload of WORKLOADS.filter((w) => only === undefined || only.includes(w.id))) {
  const result = await measure(workload);
  results.push({ result, summary: summarize(result) });
}

if (only !== undefined) {
  for (const { result, summary } of results) process.stdout.write(`${table(result, summary)}\n`);
  process.exit(0);
}
const byId = Object.fromEntries(results.map(({ result, summary }) => [result.id, { result, summary }]));
const row = (id, subject) => byId[id]?.summary.rows.find((r) => r.subject === subject);
const ratio = (id, subject = 'ours') => byId[id]?.summary.ratios[subject];
const verdict = (ok) => (ok ? 'met' : '**not met**');
const w1 = ratio('W1');
const w2 = ratio('W2');
const w3 = ratio('W3');
const w4 = ratio('W4');
const w5 = ratio('W5', 'ours upload()');
const w5pinned = ratio('W5-pinned', 'ours upload()');
const progressCost = ratio('W1', 'ours+progress').vsOurs;
const bigRss = row('BIG', 'ours').rssMax / row('BIG', 'raw').rssMax;
const bigProgressRss = row('BIG', 'ours+progress').rssMax / row('BIG', 'raw').rssMax;
const w1Rss = row('W1', 'ours').rssMax / row('W1', 'raw').rssMax;
const linear = (subject) => row('W3', subject)?.ms / row('W3-small', subject)?.ms;
const scale = sizes.w3Fields / sizes.w3Small;
const targets = [
  `| W1 within 1.15× of the raw read | ${times(w1.vsRaw)} (${times(w1.vsBestPeer)} the best peer) | ${verdict(w1.vsRaw <= 1.15)} |`,
  `| W2 within 1.15× of the raw read | ${times(w2.vsRaw)} (${times(w2.vsBestPeer)} the best peer) | ${verdict(w2.vsRaw <= 1.15)} |`,
  `| W3 ≥ 2× faster than the best peer | ${times(w3.vsBestPeer)} the best peer's time | ${verdict(w3.vsBestPeer <= 0.5)} |`,
  `| W3 linear (${scale}× the fields) | ours ${linear('ours').toFixed(1)}× the time; ${PEERS.map((p) => `${p} ${Number.isFinite(linear(p)) ? `${linear(p).toFixed(1)}×` : 'n/a'}`).join(', ')} | ${verdict(linear('ours') <= scale * 1.3)} |`,
  `| W4 ≥ 1.5× faster than the best peer, ≤ 1 file open | ${times(w4.vsBestPeer)}; most files open: ${byId.W4.result.fds.ours} | ${verdict(w4.vsBestPeer <= 1 / 1.5 && byId.W4.result.fds.ours <= 1)} |`,
  `| W5 upload() no slower than curl -F (client and server sharing 2 cores) | ${times(w5.vsCurl)} curl's time; client CPU ${fmt(row('W5', 'ours upload()').cpuMs)} vs curl ${fmt(row('W5', 'curl').cpuMs)} | ${verdict(w5.vsCurl <= 1)} |`,
  `| W5 upload() no slower than curl -F (server and client on their own core) | ${times(w5pinned.vsCurl)} curl's time; client CPU ${fmt(row('W5-pinned', 'ours upload()').cpuMs)} vs curl ${fmt(row('W5-pinned', 'curl').cpuMs)} | ${verdict(w5pinned.vsCurl <= 1)} |`,
  `| peak RSS W1 within 1.1× of the raw read | ${times(w1Rss)} | ${verdict(w1Rss <= 1.1)} |`,
  `| peak RSS for ${sizes.bigBytes / MiB / 1024} GiB within 1.1× of the raw read, with onProgress too | ${times(bigRss)}, with onProgress ${times(bigProgressRss)} | ${verdict(bigRss <= 1.1 && bigProgressRss <= 1.1)} |`,
  `| onProgress costs < 5% on W1 | ${((progressCost - 1) * 100).toFixed(1)}% | ${verdict(progressCost < 1.05)} |`,
  `| contentLength for ${sizes.w3Fields.toLocaleString('en')} params | ${fmt(row('W3', 'ours length').ms)} | ${verdict(row('W3', 'ours length').ms < 1000)} |`,
];

const minutes = ((Date.now() - started) / 60000).toFixed(1);
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, ${os.type()} ${os.release()}`;
const summaryMd = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; ${versions()}. ${quick ? 'Quick mode. ' : ''}Each run in a fresh process, a warm-up then ${ROUNDS} interleaved rounds (${ROUNDS + 2} for W5; ${minutes} min in all); ratios are medians of same-round ratios. Files are in the page cache.`,
  '',
  '| target | measured | |',
  '|---|---|---|',
  ...targets,
  '',
  '| workload | ours | form-data | form-data-encoder | native FormData | raw read |',
  '|---|---:|---:|---:|---:|---:|',
  ...['W1', 'W2', 'W3', 'W4'].map((id) => {
    const cell = (s) => {
      const r = row(id, s);
      return !r ? '–' : r.error ? `fails (${r.error})` : `${fmt(r.ms)}${byId[id].result.slow.includes(s) ? ' (1 run)' : ''}`;
    };
    return `| ${id}: ${byId[id].result.title} | ${cell('ours')} | ${cell('form-data')} | ${cell('form-data-encoder')} | ${cell('native')} | ${cell('raw')} |`;
  }),
  '',
  `| W5: ${byId.W5.result.title} | time | client CPU | peak RSS | time, pinned to separate cores |`,
  '|---|---:|---:|---:|---:|',
  ...byId.W5.summary.rows.map((r) => {
    const pinned = row('W5-pinned', r.subject);
    const pinnedTime = !pinned ? '–' : pinned.error ? `fails (${pinned.error})` : fmt(pinned.ms);
    return r.error ? `| ${r.subject} | fails (${r.error}) | | | ${pinnedTime} |` : `| ${r.subject} | ${fmt(r.ms)} | ${fmt(r.cpuMs)} | ${r.rssMiB.toFixed(0)} MiB | ${pinnedTime} |`;
  }),
].join('\n');

const full = [
  `# Benchmark results${quick ? ' (quick mode)' : ''}`,
  '',
  'Written by `npm run bench`' + (quick ? ' -- --quick' : '') + '. Ratios compare runs of the same round, so the noise of a shared machine mostly cancels out.',
  '',
  summaryMd,
  '',
  '## Every workload',
  '',
  ...results.map(({ result, summary }) => table(result, summary)),
].join('\n');

writeFileSync(join(root, 'bench', quick ? 'RESULTS-quick.md' : 'RESULTS.md'), `${full}\n`);
if (!quick) {
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const updated = readme.replace(/(<!-- bench:start -->\n)[\s\S]*?(\n<!-- bench:end -->)/, `$1${summaryMd}$2`);
  if (updated !== readme) writeFileSync(readmePath, updated);
}
process.stdout.write(`${full}\n`);
