// npm run bench [-- --quick] [-- --only ID,...]: every subject on every workload, each run in a
// fresh process, a warm-up then interleaved rounds; medians, ranges and same-round ratios go to
// bench/RESULTS.md and the summary in docs/performance.md. Workloads: W1–W4 and BIG (encoding),
// W5 and W5-pinned (upload), loop (W1-loop, W4-loop, W5-loop: event-loop delay), W6 (upload over
// TLS), W7 (32 uploads at once, memory) and COLD (import and --version in fresh processes).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { groupSection, runGroup, selectGroups } from './groups.mjs';
import { describeWorkload, expectedParts, prepareData, workloadSizes } from './workloads.mjs';

const quick = process.argv.includes('--quick');
// --only W5 (or W1,W3..., or a group: loop for the three event-loop workloads; SPOOL, DECODE,
// FORM-DATA, H2, PART-COST, DECODE-COUNTS, PARTS for those that stand on their own: groups.mjs) measures some
// workloads alone; results then go to stdout only.
const only = process.argv
  .find((arg, i) => process.argv[i - 1] === '--only')
  ?.toLowerCase()
  .split(',');
// --quick is a check that everything runs, within three minutes with the groups: one round, no warm-up.
const ROUNDS = quick ? 1 : 5;
/** More rounds where two processes share the cores (W5, W6). */
const SHARED_ROUNDS = quick ? 1 : ROUNDS + 2;
/**
 * Fewer rounds where the figures hold still from round to round and their targets are met with room
 * (W2 and W4 within 1.15× of the raw read; W3 at a third of the best peer's time; W7's memory, a
 * highest over rounds): the whole run must stay under 15 minutes here. W1 keeps five, for the cost
 * of onProgress, a few percent measured beside it.
 */
const STEADY_ROUNDS = quick ? 1 : 4;
const FEW_ROUNDS = quick ? 1 : 3;
const COLD_ROUNDS = quick ? 2 : 10;
const SLOW_MS = 20_000; // a subject slower than this is measured once
const RUN_TIMEOUT_MS = 180_000;
const root = join(import.meta.dirname, '..');
const sizes = workloadSizes(quick);
const MiB = 1024 * 1024;

const PEERS = ['form-data', 'form-data-encoder', 'native'];
/** upload() in a process that has loaded Node's fetch (its Response class) before the clock starts. */
const UPLOAD_FETCH_LOADED = 'ours upload(), fetch loaded';
const W5_SUBJECTS = [
  'ours upload()',
  'ours http.request',
  'form-data',
  'form-data-encoder',
  'native fetch',
  'curl',
  'curl (Expect)',
];
const COLD_BASE = 'node -e 0';
const CA_CERTS_SET = Boolean(process.env.NODE_EXTRA_CA_CERTS);
const WORKLOADS = [
  {
    id: 'W1',
    title: `one ${sizes.w1Bytes / MiB} MiB file + 2 fields`,
    subjects: ['ours', 'ours+progress', ...PEERS, 'raw', 'fs.read', 'cat'],
    // The physical limit: how far every reader is from the page cache's speed.
    limit: 'cat',
  },
  { id: 'W2', title: `${sizes.w2Files} files × 8 MiB`, subjects: ['ours', ...PEERS, 'raw'], rounds: STEADY_ROUNDS },
  {
    id: 'W3',
    title: `${sizes.w3Fields.toLocaleString('en')} text fields of ~20 bytes`,
    subjects: ['ours', ...PEERS, 'ours length'],
    rounds: FEW_ROUNDS,
  },
  {
    id: 'W3-small',
    title: `${sizes.w3Small.toLocaleString('en')} text fields (linearity check)`,
    subjects: ['ours', ...PEERS],
    rounds: FEW_ROUNDS,
  },
  {
    id: 'W4',
    title: `${sizes.w4Files.toLocaleString('en')} files × 4 KiB`,
    subjects: ['ours', ...PEERS, 'raw'],
    probeFds: true,
    rounds: STEADY_ROUNDS,
  },
  {
    id: 'W5',
    title: `W1 uploaded to a busboy server in another process`,
    subjects: W5_SUBJECTS,
    server: {},
    rounds: SHARED_ROUNDS, // the noisiest workload: two processes share the machine
    once: ['native fetch'], // 3–6× our time, and no target: its warm-up is its one run
  },
  {
    id: 'W5-pinned',
    title: 'W5 with the server pinned to core 0 and the client to core 1, as if on separate machines',
    // Only what its target compares (W5 measures the peers): five subjects fewer, about a minute of the run.
    subjects: ['ours upload()', 'curl'],
    server: {},
    pinned: true,
    rounds: SHARED_ROUNDS,
  },
  {
    id: 'BIG',
    title: `one ${sizes.bigBytes / MiB / 1024} GiB sparse file (memory)`,
    subjects: ['ours', 'ours+progress', 'raw'],
    rounds: quick ? 1 : 2,
  },
  // The event loop of the process that encodes or uploads, with a 1 ms timer in it; every body is parsed and hashed on the other side.
  {
    id: 'W1-loop',
    group: 'loop',
    title: `event loop: W1 (one ${sizes.w1Bytes / MiB} MiB file) encoded into a pipe to a checker process`,
    subjects: ['ours', 'form-data-encoder'],
    loop: true,
    verify: true,
  },
  {
    id: 'W4-loop',
    group: 'loop',
    title: `event loop: W4 (${sizes.w4Files.toLocaleString('en')} files × 4 KiB) encoded into a pipe to a checker process`,
    subjects: ['ours', 'form-data-encoder'],
    loop: true,
    verify: true,
  },
  {
    id: 'W5-loop',
    group: 'loop',
    title: 'event loop: W5 (W1 uploaded to the busboy server in another process, which hashes every file)',
    // "fetch loaded": Node's fetch (its bundled undici) loaded before the clock, as in a process that
    // has made a Response, Headers or fetch before: loading it blocks the loop ~20 ms, once a thread.
    subjects: ['ours upload()', UPLOAD_FETCH_LOADED, 'form-data-encoder'],
    server: { sha256: true },
    loop: true,
    verify: true,
  },
  {
    id: 'W6',
    title: 'W1 uploaded over HTTPS on loopback to a busboy server in another process',
    subjects: ['ours upload()', 'ours https.request', 'form-data-encoder', 'curl', 'curl (Expect)'],
    server: { tls: true, sha256: true },
    verify: true,
    peers: ['form-data-encoder'],
    rounds: SHARED_ROUNDS, // two processes share the machine, as in W5
  },
  {
    id: 'W7',
    title: `${sizes.w7Count} uploads of a ${sizes.w7Bytes / MiB} MiB file at once through one keep-alive agent`,
    subjects: [
      'ours upload()',
      'ours http.request',
      'ours undici.request',
      'ours got',
      'ours axios',
      'form-data-encoder',
      'curl',
    ],
    server: { sha256: true },
    verify: true,
    peers: ['form-data-encoder'],
    rounds: FEW_ROUNDS,
    notes: [
      'Each upload has its own body (the same file); the Node clients share one `new http.Agent({ keepAlive: true })` (undici: one `new Agent()`), so each upload has a connection of its own.',
      "The recipes are docs/recipes.md's: `pipeline(form.body, req)` for node:http, `body: form.body` for undici and got, `Readable.from(form.body, { objectMode: false })` with `maxRedirects: 0` for axios, each encoded with `blockSize: 256 * 1024`; upload() with its defaults.",
      '"per upload" is (peak RSS − RSS before the first upload, client modules loaded) ÷ uploads; for curl, its summed peak ÷ processes.',
      `curl is ${sizes.w7Count} processes: its CPU and peak RSS are the sums over them.`,
    ],
  },
  {
    id: 'FETCH',
    title: `fetch with form.toBlob() or the stream body: a ${sizes.fetchBytes / MiB} MiB file uploaded to the busboy server, on each runtime`,
    subjects: ['node 20', 'node 22', 'node 24', 'bun', 'deno'].flatMap((runtime) => [
      `fetch Blob (${runtime})`,
      `fetch stream (${runtime})`,
    ]),
    server: { sha256: true },
    verify: true,
    peers: [],
    rounds: 1, // no target on time: what each runtime does, after a warm-up
    // What the library and the runtimes are meant to do here (see the notes): anything else fails the check row.
    expected: { 'fetch Blob (bun)': 'ERR_BLOB_UNSUPPORTED', 'fetch stream (deno)': 'no Content-Length' },
    notes: [
      "Each runtime comes from the npm registry (npx): Node 22 and 24, Bun 1.4, Deno 2.9; Node 20 is the machine's. Peak RSS and CPU are read from /proc/self of the process that runs fetch.",
      'Deno sends the stream body chunked even with a Content-Length header (its fetch drops it): its check reads "no Content-Length"; every other row sends Content-Length.',
      "Node's fetch (20, 22, 24) holds what it has sent until the request ends, with either body: its resident size grows with the bytes sent (the Blob is also read whole first). Bun's Blob cannot hold file-backed parts, so toBlob() there reads files into memory up to 64 MiB and refuses larger ones (ERR_BLOB_UNSUPPORTED).",
    ],
  },
  {
    id: 'COLD',
    title: 'cold start: fresh processes, each timed from spawn to exit',
    subjects: [
      COLD_BASE,
      'node empty.mjs',
      "ours import('multipart-poster')",
      'ours --version (the bin)',
      ...(CA_CERTS_SET ? ['node -e 0, NODE_EXTRA_CA_CERTS kept'] : []),
    ],
    cold: true,
    verify: true, // every process must exit 0; --version must print the package's version
    baseline: COLD_BASE,
    peers: [],
    rounds: COLD_ROUNDS,
    notes: [
      CA_CERTS_SET
        ? 'NODE_EXTRA_CA_CERTS is set on this machine: it is removed from the environment of every process measured here except the last row, which shows what it costs.'
        : 'NODE_EXTRA_CA_CERTS is not set here; it would be removed from the environment of every process measured.',
      `Each run is the median of ${sizes.coldSamples} fresh processes; the figures are medians over runs, and the differences and ratios medians of same-round ones.`,
    ],
  },
];
const selected = (workload) =>
  only === undefined || only.includes(workload.id.toLowerCase()) || only.includes(workload.group);
const isOurs = (subject) => subject.startsWith('ours');
/** Plain readers of the files, not encoders: the raw stream read, a bare fs.read loop, cat. */
const READERS = ['raw', 'fs.read', 'cat'];
const isPeer = (subject, workload) =>
  workload.peers ? workload.peers.includes(subject) : !isOurs(subject) && !READERS.includes(subject);

/** `taskset` pins a process to one core (util-linux); the pinned workload needs it. */
const pin = (core) => `exec taskset -c ${core} `;

/** FETCH's subjects name the runtime that runs the worker: `(node 22)`, `(bun)`, `(deno)`; npx brings them from the npm registry. */
function runtimeCommand(subject) {
  const runtime = /\((node \d+|bun|deno)\)$/.exec(subject)?.[1];
  if (runtime === undefined || runtime === `node ${process.versions.node.split('.')[0]}`)
    return JSON.stringify(process.execPath);
  if (runtime === 'bun') return 'npx -y bun@1.4';
  if (runtime === 'deno') return 'npx -y deno@2.9 run -A';
  return `npx -y -p node@${runtime.split(' ')[1]} -- node`;
}

function runWorker(subject, workload, url, extra = [], pinned = false) {
  const args = ['bench/worker.mjs', subject, workload, quick ? 'quick' : 'full', ...(url ? [url] : []), ...extra];
  const command = `ulimit -n 1024 && ${pinned ? pin(1) : 'exec '}${runtimeCommand(subject)} ${args.map((a) => JSON.stringify(a)).join(' ')}`;
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
        resolve({
          ok: false,
          error:
            code === null
              ? `timed out after ${RUN_TIMEOUT_MS / 1000} s`
              : (err
                  .trim()
                  .split('\n')
                  .find((l) => /Error/.test(l)) ?? `exit ${code}`),
        });
      }
    });
  });
}

/** bench/server.mjs in its own process; `tls` serves HTTPS, `sha256` hashes every file received. */
async function startServer(pinned, { tls = false, sha256 = false } = {}) {
  const flags = `${tls ? ' --tls' : ''}${sha256 ? ' --sha256' : ''}`;
  const child = spawn(
    'bash',
    ['-c', `${pinned ? pin(0) : 'exec '}${JSON.stringify(process.execPath)} bench/server.mjs${flags}`],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise((resolve) => child.stdout.once('data', (c) => resolve(JSON.parse(c.toString()).port)));
  return { url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/upload`, stop: () => child.kill() };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function measure(workload) {
  const server = workload.server ? await startServer(workload.pinned, workload.server) : undefined;
  const runs = Object.fromEntries(workload.subjects.map((s) => [s, []]));
  const slow = new Set();
  const log = (subject, result, label) => {
    const extra = [
      result.loop ? `loop p99 ${result.loop.p99Ms.toFixed(1)} ms, max ${result.loop.maxMs.toFixed(1)} ms` : '',
      workload.id === 'W7' && result.ok ? `peak RSS ${result.maxRssMiB.toFixed(0)} MiB` : '',
      result.check !== undefined && result.check !== 'ok' ? `CHECK FAILED: ${result.check}` : '',
    ].filter(Boolean);
    process.stderr.write(
      `  ${label.padEnd(8)} ${subject.padEnd(18)} ${result.ok ? `${result.ms.toFixed(0)} ms` : `failed: ${result.error}`}${extra.length ? `  (${extra.join('; ')})` : ''}\n`,
    );
  };
  process.stderr.write(`${workload.id}: ${workload.title}\n`);
  for (const subject of quick ? [] : workload.subjects) {
    const result = await runWorker(subject, workload.id, server?.url, [], workload.pinned);
    log(subject, result, 'warm-up');
    if (!result.ok || result.ms > SLOW_MS || workload.once?.includes(subject)) {
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

/** The median over rounds of `subject`'s time ÷ `other`'s in the same round. */
function sameRoundRatio(result, subject, other) {
  const ratios = result.runs[subject]
    .filter((r) => r.ok && r.round > 0)
    .map((r) => [r, result.runs[other]?.find((o) => o.ok && o.round === r.round)])
    .filter(([, o]) => o)
    .map(([r, o]) => r.ms / o.ms);
  return ratios.length ? median(ratios) : undefined;
}

function summarize(result) {
  const rows = result.subjects.map((subject) => {
    const ok = result.runs[subject].filter((r) => r.ok);
    const failed = result.runs[subject].find((r) => !r.ok);
    if (ok.length === 0) return { subject, error: failed?.error ?? 'no run' };
    const pick = (key) => ok.map((r) => r[key]);
    const lengthChecks = ok.map((r) =>
      r.declared === null ? 'n/a' : r.bytes === r.declared ? 'ok' : `MISMATCH ${r.bytes}≠${r.declared}`,
    );
    const checks = ok.map((r) => r.check).filter((c) => c !== undefined);
    const loops = ok.map((r) => r.loop).filter(Boolean);
    return {
      subject,
      runs: ok.length,
      ms: median(pick('ms')),
      msMin: Math.min(...pick('ms')),
      msMax: Math.max(...pick('ms')),
      cpuMs: median(pick('cpuMs')),
      rssMiB: median(pick('maxRssMiB')),
      rssMax: Math.max(...pick('maxRssMiB')),
      perUpload: ok.some((r) => r.perUploadMiB !== undefined) ? median(pick('perUploadMiB')) : undefined,
      length: subject === 'ours length' ? 'n/a' : (lengthChecks.find((c) => c !== 'ok') ?? 'ok'),
      // busboy parse, Content-Length and SHA-256 of every file, on every run; failed runs count too.
      check:
        checks.length === 0
          ? undefined
          : failed
            ? `failed: ${failed.error}`
            : (checks.find((c) => c !== 'ok') ?? `ok (${checks.length} runs)`),
      checkOk: checks.length > 0 && !failed && checks.every((c) => c === 'ok'),
      loop: loops.length
        ? {
            p99: median(loops.map((l) => l.p99Ms)),
            p99Worst: Math.max(...loops.map((l) => l.p99Ms)),
            max: median(loops.map((l) => l.maxMs)),
            maxWorst: Math.max(...loops.map((l) => l.maxMs)),
          }
        : undefined,
      chunked: ok.some((r) => r.chunked === true),
      fds: result.fds[subject],
      vsLimit: result.limit ? sameRoundRatio(result, subject, result.limit) : undefined,
    };
  });
  // Ratios within each round: ours against the best peer, the raw read, curl and plain ours of
  // that round; with a baseline (the cold start), every subject against it, as a ratio and a difference.
  const ratios = {};
  const roundIds = [
    ...new Set(
      Object.values(result.runs)
        .flat()
        .filter((r) => r.ok && r.round > 0)
        .map((r) => r.round),
    ),
  ];
  const inRound = (s, round) => result.runs[s]?.find((r) => r.round === round && r.ok);
  for (const subject of result.subjects.filter((s) => isOurs(s) || (result.baseline && s !== result.baseline))) {
    const vsPeer = [];
    const vsRaw = [];
    const vsCurl = [];
    const vsOurs = [];
    const vsBase = [];
    const overBase = [];
    for (const round of roundIds) {
      const mine = inRound(subject, round);
      if (!mine) continue;
      const peers = result.subjects
        .filter((s) => isPeer(s, result))
        .map((s) => inRound(s, round))
        .filter(Boolean);
      if (peers.length && isOurs(subject)) vsPeer.push(mine.ms / Math.min(...peers.map((p) => p.ms)));
      if (inRound('raw', round)) vsRaw.push(mine.ms / inRound('raw', round).ms);
      if (inRound('curl', round)) vsCurl.push(mine.ms / inRound('curl', round).ms);
      if (subject !== 'ours' && inRound('ours', round)) vsOurs.push(mine.ms / inRound('ours', round).ms);
      const base = result.baseline && inRound(result.baseline, round);
      if (base) {
        vsBase.push(mine.ms / base.ms);
        overBase.push(mine.ms - base.ms);
      }
    }
    const med = (values) => (values.length ? median(values) : undefined);
    ratios[subject] = {
      vsBestPeer: med(vsPeer),
      vsRaw: med(vsRaw),
      vsCurl: med(vsCurl),
      vsOurs: med(vsOurs),
      vsBase: med(vsBase),
      overBase: med(overBase),
    };
  }
  return { rows, ratios };
}

const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const times = (x) => (x === undefined ? '–' : `${x.toFixed(2)}×`);
/** A ratio beside its limit: three decimals where two would round onto the limit and hide the verdict. */
const timesBeside = (x, limit) =>
  x !== undefined && x !== limit && x.toFixed(2) === limit.toFixed(2) ? `${x.toFixed(3)}×` : times(x);
const msFine = (ms) => (ms === undefined ? '–' : `${ms.toFixed(1)} ms`);
/** ' (1 run)' beside a subject a workload measured once (too slow, or listed in `once`). */
const oneRun = (result, subject) => (result.slow.includes(subject) ? ' (1 run)' : '');

/** The columns of a workload's table: [heading, alignment, cell(row, ratios)]. */
function columns(result) {
  if (result.cold) {
    return [
      ['time (median)', '---:', (r) => msFine(r.ms)],
      ['min–max', '---:', (r) => `${msFine(r.msMin)}–${msFine(r.msMax)}`],
      [
        `over ${result.baseline}`,
        '---:',
        (r, q) => (q?.overBase === undefined ? '–' : `${q.overBase >= 0 ? '+' : ''}${q.overBase.toFixed(1)} ms`),
      ],
      [`× ${result.baseline}`, '---:', (r, q) => times(q?.vsBase)],
      ['check', '---', (r) => r.check ?? ''],
    ];
  }
  return [
    ['time (median)', '---:', (r) => `${fmt(r.ms)}`],
    ['min–max', '---:', (r) => `${fmt(r.msMin)}–${fmt(r.msMax)}`],
    ['CPU', '---:', (r) => fmt(r.cpuMs)],
    [
      'peak RSS',
      '---:',
      (r) => `${r.rssMiB.toFixed(0)} MiB${result.id === 'W7' ? ` (max ${r.rssMax.toFixed(0)})` : ''}`,
    ],
    ...(result.id === 'W7'
      ? [['per upload', '---:', (r) => (r.perUpload === undefined ? '–' : `${r.perUpload.toFixed(1)} MiB`)]]
      : []),
    ...(result.limit ? [[`× ${result.limit} (page cache)`, '---:', (r) => times(r.vsLimit)]] : []),
    ['length check', '---', (r) => `${r.length}${r.chunked ? ' (chunked)' : ''}`],
    ...(result.verify ? [['received (busboy, SHA-256)', '---', (r) => r.check ?? '']] : []),
    ...(result.loop
      ? [
          ['loop p99 (worst run)', '---:', (r) => (r.loop ? `${msFine(r.loop.p99)} (${msFine(r.loop.p99Worst)})` : '')],
          ['loop max (worst run)', '---:', (r) => (r.loop ? `${msFine(r.loop.max)} (${msFine(r.loop.maxWorst)})` : '')],
        ]
      : []),
    ...(result.probeFds ? [['most files open', '---:', (r) => `${r.fds ?? ''}`]] : []),
  ];
}

function table(result, summary) {
  const cols = columns(result);
  const lines = [
    `### ${result.id}: ${result.title}`,
    '',
    `| subject | ${cols.map((c) => c[0]).join(' | ')} |`,
    `|---|${cols.map((c) => c[1]).join('|')}|`,
  ];
  for (const row of summary.rows) {
    if (row.error) {
      lines.push(`| ${row.subject} | failed: ${row.error} |${' |'.repeat(cols.length - 1)}`);
      continue;
    }
    const once = row.runs === 1 ? oneRun(result, row.subject) : '';
    lines.push(`| ${row.subject}${once} | ${cols.map((c) => c[2](row, summary.ratios[row.subject])).join(' | ')} |`);
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
  if (result.loop)
    lines.push(
      '- Event-loop delay: `monitorEventLoopDelay({ resolution: 1 })` in the measured process, over the whole run; each sample is the time between two ticks of a 1 ms timer (an idle loop reads ~1 ms). Medians over runs, the worst run in brackets.',
    );
  for (const note of result.notes ?? []) lines.push(`- ${note}`);
  lines.push('');
  return lines.join('\n');
}

function versions() {
  const pkg = (name) => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  let curl = 'not found';
  try {
    curl = execFileSync('curl', ['--version'], { encoding: 'utf8' }).split('\n')[0].split(' ').slice(0, 2).join(' ');
  } catch {}
  return `Node ${process.version}; form-data ${pkg('form-data')}; form-data-encoder ${pkg('form-data-encoder')} with formdata-node ${pkg('formdata-node')}; undici ${pkg('undici')}; got ${pkg('got')}; axios ${pkg('axios')}; busboy ${pkg('busboy')}; ${curl}`;
}

const started = Date.now();
prepareData(sizes);
// The SHA-256 of every file an upload is checked against, computed (and cached) before anything is measured.
for (const workload of WORKLOADS.filter((w) => selected(w) && w.verify && !w.cold))
  expectedParts(describeWorkload(workload.id, sizes));
const results = [];
for (const workload of WORKLOADS.filter(selected)) {
  const workloadStarted = Date.now();
  const result = await measure(workload);
  results.push({ result, summary: summarize(result) });
  process.stderr.write(`${workload.id}: ${((Date.now() - workloadStarted) / 1000).toFixed(0)} s\n`);
}
const groups = [];
for (const group of selectGroups(only)) groups.push(await runGroup(group, quick));
// A group that could not run fails the run, once everything else is written.
process.exitCode = groups.every((group) => group.ok) ? 0 : 1;

if (only !== undefined) {
  for (const { result, summary } of results) process.stdout.write(`${table(result, summary)}\n`);
  for (const group of groups) process.stdout.write(`${groupSection(group)}\n`);
  process.exit();
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
/** upload() beside curl -F: time no slower, client CPU within `cpuLimit`× curl's (medians over runs). */
function curlTarget(id, ratios, how, cpuLimit) {
  const ours = row(id, 'ours upload()');
  const curl = row(id, 'curl');
  const cpu = ours?.cpuMs / curl?.cpuMs;
  const ms = (value) => (value === undefined ? '–' : fmt(value));
  const cpuText = `client CPU ${ms(ours?.cpuMs)} vs curl ${ms(curl?.cpuMs)} (${timesBeside(Number.isFinite(cpu) ? cpu : undefined, cpuLimit)})`;
  return `| ${id} upload() ${how}: time ≤ 1.0× curl -F, client CPU ≤ ${cpuLimit}× curl's | ${timesBeside(ratios?.vsCurl, 1)} curl's time; ${cpuText} | ${verdict(ratios?.vsCurl <= 1 && cpu <= cpuLimit)} |`;
}

const targets = [
  `| W1 within 1.15× of the raw read | ${times(w1.vsRaw)} (${times(w1.vsBestPeer)} the best peer) | ${verdict(w1.vsRaw <= 1.15)} |`,
  `| W2 within 1.15× of the raw read | ${times(w2.vsRaw)} (${times(w2.vsBestPeer)} the best peer) | ${verdict(w2.vsRaw <= 1.15)} |`,
  `| W3 ≥ 2.5× faster than the best peer | ${times(w3.vsBestPeer)} the best peer's time | ${verdict(w3.vsBestPeer <= 0.4)} |`,
  `| W3 linear (${scale}× the fields) | ours ${linear('ours').toFixed(1)}× the time; ${PEERS.map((p) => `${p} ${Number.isFinite(linear(p)) ? `${linear(p).toFixed(1)}×` : 'n/a'}`).join(', ')} | ${verdict(linear('ours') <= scale * 1.3)} |`,
  `| W4 ≥ 1.5× faster than the best peer, ≤ 1 file open | ${times(w4.vsBestPeer)}; most files open: ${byId.W4.result.fds.ours} | ${verdict(w4.vsBestPeer <= 1 / 1.5 && byId.W4.result.fds.ours <= 1)} |`,
  curlTarget('W5', w5, 'client and server sharing 2 cores', 1.2),
  curlTarget('W5-pinned', w5pinned, 'server and client on their own core', 1.2),
  `| peak RSS W1 within 1.1× of the raw read | ${times(w1Rss)} | ${verdict(w1Rss <= 1.1)} |`,
  `| peak RSS for ${sizes.bigBytes / MiB / 1024} GiB within 1.1× of the raw read, with onProgress too | ${times(bigRss)}, with onProgress ${times(bigProgressRss)} | ${verdict(bigRss <= 1.1 && bigProgressRss <= 1.1)} |`,
  `| onProgress costs < 5% on W1 | ${((progressCost - 1) * 100).toFixed(1)}% | ${verdict(progressCost < 1.05)} |`,
  `| contentLength for ${sizes.w3Fields.toLocaleString('en')} params | ${fmt(row('W3', 'ours length').ms)} | ${verdict(row('W3', 'ours length').ms < 1000)} |`,
  ...newTargets(),
];

/** The targets of the event-loop, cold-start, TLS and many-uploads workloads; a failed subject reads as not met. */
function newTargets() {
  const lines = [];
  const failed = (r) => (!r ? 'not measured' : `fails (${r.error})`);
  for (const [id, ours, what] of [
    ['W1-loop', 'ours', 'W1 encoding'],
    ['W4-loop', 'ours', 'W4 encoding'],
    ['W5-loop', 'ours upload()', 'W5 upload()'],
  ]) {
    const mine = row(id, ours);
    const peer = row(id, 'form-data-encoder');
    const loop = (r) => (r?.loop ? `p99 ${msFine(r.loop.p99)}, max ${msFine(r.loop.max)}` : failed(r));
    const met = mine?.loop !== undefined && mine.loop.p99 <= 5 && mine.loop.max <= 20;
    const loaded = row(id, UPLOAD_FETCH_LOADED);
    const warm = loaded
      ? `; with Node's fetch already loaded ${loop(loaded)} (worst run ${msFine(loaded.loop?.maxWorst)})`
      : '';
    lines.push(
      `| event loop during ${what}: p99 ≤ 5 ms, max ≤ 20 ms (medians over runs) | ${loop(mine)} (worst run ${msFine(mine?.loop?.maxWorst)})${warm}; form-data-encoder ${loop(peer)} | ${verdict(met)} |`,
    );
  }
  const importCost = ratio('COLD', "ours import('multipart-poster')");
  const esm = ratio('COLD', 'node empty.mjs');
  const version = ratio('COLD', 'ours --version (the bin)');
  const bare = row('COLD', COLD_BASE);
  const caNote = CA_CERTS_SET ? ', without NODE_EXTRA_CA_CERTS' : '';
  lines.push(
    `| import('multipart-poster') ≤ 12 ms over bare node (fresh processes${caNote}) | +${importCost?.overBase?.toFixed(1) ?? '–'} ms over \`node -e 0\` (${msFine(bare?.ms)}); an empty ES module +${esm?.overBase?.toFixed(1) ?? '–'} ms | ${verdict(importCost?.overBase <= 12)} |`,
    `| multipart-poster --version ≤ 1.5× bare node | ${times(version?.vsBase)} (+${version?.overBase?.toFixed(1) ?? '–'} ms) | ${verdict(version?.vsBase <= 1.5)} |`,
  );
  lines.push(curlTarget('W6', ratio('W6', 'ours upload()'), 'over TLS', 1.1));
  const w7rss = (r) =>
    `${r.subject.replace(/^ours /, '')} ${r.error ? `fails (${r.error})` : `${r.rssMax.toFixed(0)} MiB${r.perUpload === undefined ? '' : ` (${r.perUpload.toFixed(1)}/upload)`}`}`;
  const w7 = byId.W7?.summary.rows.filter((r) => isOurs(r.subject)) ?? [];
  const w7peers = byId.W7?.summary.rows.filter((r) => !isOurs(r.subject)) ?? [];
  lines.push(
    `| W7 peak RSS ≤ 200 MiB for ${sizes.w7Count} uploads at once, through every recipe (worst run) | ${w7.map(w7rss).join(', ') || 'not measured'} (peers: ${w7peers.map(w7rss).join(', ')}, curl's summed over its processes) | ${verdict(w7.length > 0 && w7.every((r) => !r.error && r.rssMax <= 200))} |`,
  );
  // A row may have a known outcome that is not "ok" (FETCH: Bun's toBlob() refusal, Deno's chunked stream body): it must be exactly that.
  const checked = results.flatMap(({ result, summary }) =>
    result.verify ? summary.rows.map((r) => ({ id: result.id, expected: result.expected?.[r.subject], ...r })) : [],
  );
  const bad = checked.filter((r) => (r.expected === undefined ? !r.checkOk : (r.error ?? r.check) !== r.expected));
  lines.push(
    `| every upload in W1-loop, W4-loop, W5-loop, W6, W7, FETCH received as sent (busboy parse, Content-Length, SHA-256 of every file), and the cold-start processes succeeded; FETCH's two known refusals exactly as expected | ${bad.length === 0 ? `all ${checked.reduce((n, r) => n + (r.runs ?? 0), 0)} runs ok` : bad.map((r) => `${r.id} ${r.subject}: ${r.check ?? r.error}`).join('; ')} | ${verdict(checked.length > 0 && bad.length === 0)} |`,
  );
  return lines;
}

/** How many rounds each workload of the run had: "5 for W1, W3-small; 7 for W5, W6; ...". */
function roundsSummary() {
  const byRounds = new Map();
  for (const { id, rounds = ROUNDS } of WORKLOADS.filter(selected))
    byRounds.set(rounds, [...(byRounds.get(rounds) ?? []), id]);
  return [...byRounds]
    .sort(([a], [b]) => b - a)
    .map(([rounds, ids]) => `${rounds} for ${ids.join(', ')}`)
    .join('; ');
}

const minutes = ((Date.now() - started) / 60000).toFixed(1);
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, ${os.type()} ${os.release()}`;
const summaryMd = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; ${versions()}. ${quick ? 'Quick mode. ' : ''}Each run in a fresh process, ${quick ? 'no warm-up, ' : 'a warm-up then '}interleaved rounds (${roundsSummary()}; W5's native fetch and any subject over 20 s once; ${minutes} min in all); ratios are medians of same-round ratios. Files are in the page cache.`,
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
      return !r ? '–' : r.error ? `fails (${r.error})` : `${fmt(r.ms)}${oneRun(byId[id].result, s)}`;
    };
    return `| ${id}: ${byId[id].result.title} | ${cell('ours')} | ${cell('form-data')} | ${cell('form-data-encoder')} | ${cell('native')} | ${cell('raw')} |`;
  }),
  '',
  `| W5: ${byId.W5.result.title} | time | client CPU | peak RSS | time, pinned to separate cores (upload() and curl) |`,
  '|---|---:|---:|---:|---:|',
  ...byId.W5.summary.rows.map((r) => {
    const pinned = row('W5-pinned', r.subject);
    const pinnedTime = !pinned ? '–' : pinned.error ? `fails (${pinned.error})` : fmt(pinned.ms);
    return r.error
      ? `| ${r.subject} | fails (${r.error}) | | | ${pinnedTime} |`
      : `| ${r.subject} | ${fmt(r.ms)}${oneRun(byId.W5.result, r.subject)} | ${fmt(r.cpuMs)} | ${r.rssMiB.toFixed(0)} MiB | ${pinnedTime} |`;
  }),
  ...(byId.W6 || byId.W7
    ? [
        '',
        '| W6 (TLS) and W7 (many at once) | W6 time | W6 client CPU | W7 time | W7 peak RSS (worst run) | W7 per upload |',
        '|---|---:|---:|---:|---:|---:|',
      ]
    : []),
  ...[...new Set([...(byId.W7?.result.subjects ?? []), ...(byId.W6?.result.subjects ?? [])])]
    .map((subject) => {
      const six = row('W6', subject === 'ours http.request' ? 'ours https.request' : subject);
      const seven = row('W7', subject);
      const cell = (r, f) => (!r ? '–' : r.error ? `fails (${r.error})` : f(r));
      if (subject === 'ours https.request') return undefined;
      return `| ${subject === 'ours http.request' ? 'ours http(s).request' : subject} | ${cell(six, (r) => fmt(r.ms))} | ${cell(six, (r) => fmt(r.cpuMs))} | ${cell(seven, (r) => fmt(r.ms))} | ${cell(seven, (r) => `${r.rssMax.toFixed(0)} MiB`)} | ${cell(seven, (r) => (r.perUpload === undefined ? '–' : `${r.perUpload.toFixed(1)} MiB`))} |`;
    })
    .filter(Boolean),
  ...piecesSummary(),
].join('\n');

/** uploadParts' rows (issue 19's targets) from the PARTS group, its headings as plain lines; none if it did not run. */
function piecesSummary() {
  const parts = groups.find((group) => group.id === 'PARTS' && group.ok);
  if (parts === undefined) return [];
  return ['', parts.markdown.replace(/^#+ (.*)$/gm, '$1:').replace(/\n{3,}/g, '\n\n')];
}

const full = [
  `# Benchmark results${quick ? ' (quick mode)' : ''}`,
  '',
  'Written by `npm run bench`' +
    (quick ? ' -- --quick' : '') +
    '. Ratios compare runs of the same round, so the noise of a shared machine mostly cancels out.',
  '',
  summaryMd,
  '',
  '## Every workload',
  '',
  ...results.map(({ result, summary }) => table(result, summary)),
  ...groups.map(groupSection),
].join('\n');

writeFileSync(join(root, 'bench', quick ? 'RESULTS-quick.md' : 'RESULTS.md'), `${full}\n`);
if (!quick) {
  const performancePath = join(root, 'docs', 'performance.md');
  const performance = readFileSync(performancePath, 'utf8');
  const markers = /(<!-- bench:start -->\n)[\s\S]*?(\n<!-- bench:end -->)/;
  if (!markers.test(performance)) throw new Error(`${performancePath} has no bench:start and bench:end markers`);
  const updated = performance.replace(markers, `$1${summaryMd}$2`);
  if (updated !== performance) writeFileSync(performancePath, updated);
}
process.stdout.write(`${full}\n`);
