import { spawn } from 'node:child_process';
import { root, type CliResult } from './cli.js';

/** Runs `curl` (interop tests only: it must be installed) to completion, killed after `timeout` ms; errors and warnings on stderr, no progress meter. */
export function runCurl(
  args: string[],
  options: { timeout?: number; stdin?: number | 'ignore' } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['--no-progress-meter', ...args], {
      cwd: root,
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => (stdout += c));
    child.stderr!.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
