import { spawn } from 'node:child_process';
import { onTestFinished } from 'vitest';
import { cliPath, root } from '../helpers/cli.js';
import { tempDir } from '../helpers/files.js';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The built CLI with a state directory of its own (default: a new one) and none of the test
 * runner's proxy variables; `signal()` sends it a signal while it runs. Killed after the test.
 */
export function partsCli(
  args: string[],
  state: string = tempDir(),
  /** `stdoutClosed`: the reading end of its stdout is closed at once (a reader gone: EPIPE). */
  options: { stdoutClosed?: boolean } = {},
): { result: Promise<Run>; signal: (name: NodeJS.Signals) => void } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/_proxy$/i.test(name)));
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: root,
    env: { ...env, XDG_STATE_HOME: state },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onTestFinished(() => void child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  if (options.stdoutClosed) child.stdout.destroy();
  else child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const result = new Promise<Run>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { result, signal: (name) => void child.kill(name) };
}
