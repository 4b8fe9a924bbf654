import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { cleanUpAfter } from './cleanup.js';

export const root = join(import.meta.dirname, '..', '..');
export const cliPath = join(root, 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Killed (SIGKILL) after this many ms; default 30 s. */
  timeout?: number;
  /** A descriptor to give as standard input; default none. */
  stdin?: number | 'ignore';
  /** The whole environment; default this process's. */
  env?: NodeJS.ProcessEnv;
}

/** Runs a program to completion from the project's root, its output collected as text. */
export function runProgram(command: string, args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
      ...(options.env === undefined ? {} : { env: options.env }),
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

/** Runs the built CLI to completion. */
export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return runProgram(process.execPath, [cliPath, ...args], options);
}

/** Starts `multipart-poster serve` on a free port and stops it after the test (or the file) that started it. */
export async function startServe(
  args: string[] = [],
): Promise<{ url: string; child: ChildProcessWithoutNullStreams; log: () => string }> {
  const child = spawn(process.execPath, [cliPath, 'serve', '--port', '0', ...args], { cwd: root });
  let log = '';
  child.stderr.on('data', (c) => (log += c));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (c: Buffer) => {
      const match = /listening on (\S+)/.exec(c.toString());
      if (match) resolve(match[1]!);
      else reject(new Error(`unexpected: ${c.toString()}`));
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${log}`)));
  });
  cleanUpAfter(() => child.kill('SIGTERM'));
  return { url, child, log: () => log };
}

export interface CliBytesResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs the built CLI with `input` written to its standard input through a pipe, piece after piece
 * (each once the pipe has taken the last), then closed. stdout comes back as bytes.
 */
export function runCliWithInput(
  args: string[],
  input: Buffer | readonly Buffer[],
  options: { timeout?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliBytesResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.on('error', () => {}); // a child that exits before reading all (a usage error) closes its stdin: EPIPE
    const pieces = Buffer.isBuffer(input) ? [input] : [...input];
    const next = (): void => {
      const piece = pieces.shift();
      if (piece === undefined) child.stdin.end();
      else child.stdin.write(piece, (error) => (error ? child.stdin.destroy() : next()));
    };
    next();
  });
}
