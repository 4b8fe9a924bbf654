// The CLI on a terminal: `script` (util-linux) gives it a pseudo-terminal, and what the terminal
// received comes back on script's stdout. Needs script.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, root } from '../helpers/cli.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { json, startServer } from '../helpers/servers.js';

const dir = tempDir();
const fixture = join(root, 'test', 'fixtures', 'cli', 'in-terminal.sh');
const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/** Reads slowly, so a progress display has time to update. */
const slow = await startServer((req, res) => {
  req.on('data', () => {
    req.pause();
    setTimeout(() => req.resume(), 5);
  });
  req.on('end', () => json(res, 200, {}));
});

/** The CLI under `script`; `output()` is what the terminal got so far, `pid` the CLI's process id once printed. */
function inTerminal(args: string[]) {
  const command = ['sh', fixture, process.execPath, cliPath, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...process.env, COLUMNS: '100' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
  return { done, output: () => output, pid: () => Number(/pid (\d+)/.exec(output)?.[1]) || undefined };
}

/** What the terminal got after the fixture's "pid N" line. */
const screen = (output: string) => output.replace(/^pid \d+\r?\n/, '');

describe('progress on a terminal', () => {
  it('a one-line bar redrawn in place and cleared at the end', async () => {
    const file = writeFile(dir, 'tty.bin', bytes(24 * 1024 * 1024, 5));
    const run = inTerminal(['--no-expect-continue', '-o', '/dev/null', '-F', `f=@${file}`, slow.url]);
    expect(await run.done).toBe(0);
    const output = screen(run.output());
    const frames = output.split('\r').filter((frame) => frame.includes('%'));
    expect(frames.length).toBeGreaterThanOrEqual(2);
    for (const frame of frames)
      expect(frame).toMatch(/^\[[=> ]+\] +\d{1,3}% {2}.* (ETA \S+|waiting for response)\x1b\[K$/);
    expect(frames.at(-1)).toContain('100%  24.0 MiB / 24.0 MiB');
    expect(frames.at(-1)).toContain('waiting for response');
    expect(output.endsWith('\r\x1b[K')).toBe(true); // cleared at the end
  });

  it('--no-progress keeps a terminal quiet', async () => {
    const run = inTerminal(['--no-progress', '-o', '/dev/null', '-F', 'a=b', slow.url]);
    expect(await run.done).toBe(0);
    expect(screen(run.output())).toBe('');
  });

  it('Ctrl-C (SIGINT) during the upload ends the progress line before the process ends (exit 130)', async () => {
    const stalled = await startServer((req) => req.pause()); // takes the head, then reads nothing: the upload waits
    const file = writeFile(dir, 'interrupted.bin', bytes(24 * 1024 * 1024, 6));
    const run = inTerminal(['--no-expect-continue', '-o', '/dev/null', '-F', `f=@${file}`, stalled.url]);
    // Bounded: the bar appears within the first tenth of a second of the upload; 20 s is far past it.
    for (let i = 0; i < 400 && !(run.pid() && screen(run.output()).includes('%')); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen(run.output())).toContain('%');
    process.kill(run.pid()!, 'SIGINT');
    expect(await run.done).toBe(130);
    const output = screen(run.output());
    expect(output.endsWith('\r\x1b[K')).toBe(true); // the bar cleared: the shell's prompt starts on a clean line
  });
});
