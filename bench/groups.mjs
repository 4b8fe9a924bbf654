// The benchmarks that stand on their own (spool.mjs, decode.mjs, form-data.mjs, h2.mjs, the counts of
// part-cost.mjs and decode-counts.mjs, parts.mjs) as groups of `npm run bench`: each runs as its own process, exactly as its file's header says
// (`node bench/FILE.mjs [--quick]`), and what it prints (Markdown) goes into bench/RESULTS.md under a
// heading of its own. A group that cannot run (a program it needs is missing, it exits non-zero, it
// runs past its time) is reported as failed, loudly, and fails the run: it is never skipped.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const MINUTE = 60_000;

/**
 * `args(quick)`: how the file is invoked (`nodeFlags` before it). `needs`: programs that must be on
 * PATH, with how to get them. `limitMs`: the longest a group may run before it is stopped and failed
 * (full, quick). `fenced`: its output is plain text, shown as a code block.
 */
export const GROUPS = [
  {
    id: 'SPOOL',
    title: 'Spooling many small chunks (bench/spool.mjs)',
    script: 'spool.mjs',
    args: (quick) => (quick ? ['--quick'] : []),
    limitMs: [3 * MINUTE, MINUTE],
  },
  {
    id: 'DECODE',
    title: 'Decoding (bench/decode.mjs)',
    script: 'decode.mjs',
    // One round in --quick (as FORM-DATA and H2): the whole run's budget is three minutes.
    args: (quick) => (quick ? ['--quick', '--rounds', '1'] : []),
    limitMs: [6 * MINUTE, 2 * MINUTE],
  },
  {
    id: 'FORM-DATA',
    title: 'The form-data drop-in (bench/form-data.mjs)',
    script: 'form-data.mjs',
    // Three rounds in a full run (form-data alone takes 17 s a round on W4): the run's budget is 15 minutes.
    args: (quick) => (quick ? ['--quick', '--rounds', '1'] : ['--rounds', '3']),
    limitMs: [8 * MINUTE, 2 * MINUTE],
  },
  {
    id: 'H2',
    title: 'HTTP/2 (bench/h2.mjs)',
    script: 'h2.mjs',
    // Two rounds in a full run: HTTP/2 has no target of its own left, and the run's budget is 15 minutes.
    args: (quick) => (quick ? ['--quick', '--rounds', '1'] : ['--rounds', '2']),
    limitMs: [8 * MINUTE, 2 * MINUTE],
  },
  {
    id: 'PART-COST',
    title: 'What one W3 text part costs the encoder, counted (bench/part-cost.mjs)',
    script: 'part-cost.mjs',
    nodeFlags: ['--expose-gc'],
    args: () => [],
    fenced: true,
    limitMs: [2 * MINUTE, MINUTE],
  },
  {
    id: 'DECODE-COUNTS',
    title: 'What one decoded part costs, counted (bench/decode-counts.mjs)',
    script: 'decode-counts.mjs',
    args: () => [],
    fenced: true,
    limitMs: [2 * MINUTE, MINUTE],
  },
  {
    id: 'PARTS',
    title: 'Uploads in pieces: S3 to Ceph, tus (bench/parts.mjs)',
    script: 'parts.mjs',
    args: (quick) => (quick ? ['--quick'] : []),
    needs: [['radosgw', "Ceph's Object Gateway: apt-get install ceph-mon ceph-osd radosgw ceph-common"]],
    limitMs: [10 * MINUTE, 3 * MINUTE],
  },
];

/** The groups `--only` names (case-insensitive), or all of them for a whole run. */
export function selectGroups(only) {
  return GROUPS.filter((group) => only === undefined || only.includes(group.id.toLowerCase()));
}

const missing = (program) => spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status !== 0;

/** Runs one group: `{ id, title, ok, seconds, markdown }`, `markdown` being its output or why it failed. */
export async function runGroup(group, quick) {
  const started = Date.now();
  const absent = (group.needs ?? []).filter(([program]) => missing(program));
  if (absent.length > 0) {
    const why = absent.map(([program, how]) => `${program} is not installed (${how})`).join('; ');
    process.stderr.write(`\n*** ${group.id} FAILED: ${why}\n`);
    return { ...group, ok: false, seconds: 0, markdown: `**Failed: not measured.** ${why}.` };
  }
  const limit = group.limitMs[quick ? 1 : 0];
  const flags = (group.nodeFlags ?? []).map((flag) => `${flag} `).join('');
  process.stderr.write(`\n${group.id}: node ${flags}bench/${group.script} ${group.args(quick).join(' ')}\n`);
  const { code, stdout, stderr, timedOut } = await runScript(group, quick, limit);
  const seconds = (Date.now() - started) / 1000;
  const output = group.fenced ? `\`\`\`\n${stdout.trim()}\n\`\`\`` : stdout.trim();
  if (code === 0 && stdout.trim() !== '') return { ...group, ok: true, seconds, markdown: output };
  const why = timedOut ? `stopped after ${limit / MINUTE} min` : `exited ${code}`;
  process.stderr.write(`\n*** ${group.id} FAILED: ${why}\n`);
  const tail = stderr.trim().split('\n').slice(-5).join('\n');
  const shown = stdout.trim() === '' ? '' : `\n\n${output}`;
  return { ...group, ok: false, seconds, markdown: `**Failed: ${why}.**\n\n\`\`\`\n${tail}\n\`\`\`${shown}` };
}

/** `node FLAGS bench/SCRIPT ARGS`: its stdout kept, its stderr shown as it comes (progress) and kept, stopped at `limit` ms. */
function runScript(group, quick, limit) {
  const args = [...(group.nodeFlags ?? []), join(import.meta.dirname, group.script), ...group.args(quick)];
  return new Promise((resolve) => {
    // A process group of its own: the servers and daemons it starts are stopped with it.
    const child = spawn(process.execPath, args, {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      process.stderr.write(chunk);
    });
    const stop = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {} // already gone
    };
    let killer;
    const timer = setTimeout(() => {
      timedOut = true;
      stop('SIGTERM');
      killer = setTimeout(() => stop('SIGKILL'), 5000);
    }, limit);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolve({ code: code ?? signal, stdout, stderr, timedOut });
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: error.message, stdout, stderr, timedOut });
    });
  });
}

/** A group's section of RESULTS.md. */
export function groupSection(result) {
  return [`## ${result.id}: ${result.title}`, '', `(${result.seconds.toFixed(0)} s)`, '', result.markdown, ''].join(
    '\n',
  );
}
