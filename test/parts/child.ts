import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, onTestFinished } from 'vitest';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'parts', 'child.mjs');
/** A child that neither ends nor is killed by then is killed, and the test fails. */
const CHILD_TIMEOUT_MS = 90_000;

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
  /** The last `progress` line's bytes. */
  loaded: number;
  /** The `done` line's result, if the upload finished. */
  done: { resumedBytes: number; size: number } | undefined;
}

export interface ChildRun {
  /** SIGKILLs the child now. */
  kill(): void;
  result: Promise<ChildResult>;
}

/** Runs tests/fixtures/parts/child.mjs with `config`; `killWhen` sees each line of its output and may ask for SIGKILL. */
export function runChild(
  config: Record<string, unknown>,
  killWhen?: (loaded: number, total: number) => boolean,
): ChildRun {
  const child = spawn(process.execPath, [FIXTURE, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  onTestFinished(kill);
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let loaded = 0;
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    const progress = /^progress (\d+) (\d+)$/.exec(line);
    if (progress) {
      loaded = Number(progress[1]);
      if (killWhen?.(loaded, Number(progress[2]))) kill();
    }
  });
  const timer = setTimeout(kill, CHILD_TIMEOUT_MS);
  const result = new Promise<ChildResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const done = lines.find((line) => line.startsWith('done '));
      if (code !== 0 && signal === null) lines.push(`stderr: ${stderr}`);
      resolve({ code, signal, lines, loaded, done: done ? JSON.parse(done.slice(5)) : undefined });
    });
  });
  return { kill, result };
}

/** When to SIGKILL a child, by its progress. */
export type KillWhen = (loaded: number, total: number) => boolean;

/**
 * The first run of a kill-then-resume test: `arm` gets the child's kill (for a server's fault to
 * call) and may return when to kill by progress. Fails the test unless SIGKILL ended the child.
 */
export async function runKilled(
  config: Record<string, unknown>,
  arm: (kill: () => void) => KillWhen | undefined,
  label = '',
): Promise<ChildResult> {
  let killer = () => {};
  const first = runChild(
    config,
    arm(() => killer()),
  );
  killer = first.kill;
  const killed = await first.result;
  expect(killed.signal, `${label}${killed.lines.join('\n')}`).toBe('SIGKILL');
  return killed;
}

/** The same call run again, to its end: fails the test unless the child exited 0. */
export async function runToEnd(config: Record<string, unknown>): Promise<ChildResult> {
  const second = await runChild(config).result;
  expect(second.code, second.lines.join('\n')).toBe(0);
  return second;
}
