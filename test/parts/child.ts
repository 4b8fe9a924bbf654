import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { onTestFinished } from 'vitest';

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
