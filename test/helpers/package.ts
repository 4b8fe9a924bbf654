// The published package, as a user gets it: a copy of this working tree without dist/ (like a
// fresh clone) is packed with `npm pack` (its prepack builds) and the tarball installed into a
// scratch project. Packing a copy leaves this tree's dist/ alone for the other test files.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

export const root = join(import.meta.dirname, '..', '..');
export const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

/** A dev tool from this checkout's node_modules/.bin. */
export const bin = (name: string) => join(root, 'node_modules', '.bin', name);

// Without the npm_* variables `npm test` sets (npm_config_local_prefix, npm_package_json...), which describe this checkout, not the scratch ones.
// Without Node's compile cache, which tsc turns on (Node 22 and later) in the run's temporary directory.
export const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name))),
  NODE_DISABLE_COMPILE_CACHE: '1',
};

export interface Run {
  code: number;
  output: string;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  /** Killed (SIGKILL) after this long; default 120 s. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command, resolving to its exit code and output (never rejects). A child that outlives its timeout is killed. */
export async function run(command: string, args: string[], options: RunOptions | string): Promise<Run> {
  const { cwd, timeoutMs = 120_000, env: childEnv = env } = typeof options === 'string' ? { cwd: options } : options;
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, {
      cwd,
      env: childEnv,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    return { code: 0, output: stdout + stderr, stdout, stderr };
  } catch (error) {
    const e = error as {
      code?: number | string;
      signal?: string;
      killed?: boolean;
      stdout?: string;
      stderr?: string;
      message: string;
    };
    const stdout = e.stdout ?? '';
    const stderr = `${e.stderr ?? ''}${e.killed ? `\n(killed by ${e.signal} after ${timeoutMs} ms)` : ''}`;
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      output: `${stdout}${stderr}` || e.message,
      stdout,
      stderr: stderr || e.message,
    };
  }
}

/** Runs a command that must succeed, resolving to its stdout and stderr together. */
export async function mustRun(command: string, args: string[], options: RunOptions | string): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code}):\n${result.output}`);
  return result.output;
}

export interface Installed {
  /** The tarball `npm pack` made. */
  tarball: string;
  /** The scratch project it is installed into (a package.json and node_modules). */
  app: string;
  /** app/node_modules/multipart-poster. */
  installed: string;
}

/** Packs a dist/-less copy of the working tree under `work` and installs the tarball into `work/app`. */
export async function packAndInstall(work: string): Promise<Installed> {
  const clone = join(work, 'clone');
  const packDir = join(work, 'pack');
  const app = join(work, 'app');
  // The working tree as git sees it (tracked and new files, nothing ignored: no dist/), with the installed node_modules.
  const files = (await mustRun('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root))
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(root, file))) continue; // deleted but not yet staged
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(root, file), join(clone, file));
  }
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'));
  if (existsSync(join(clone, 'dist'))) throw new Error('the copy to pack holds a dist/ already');

  mkdirSync(packDir);
  await mustRun('npm', ['pack', '--pack-destination', packDir], clone);
  const packed = readdirSync(packDir).filter((name) => name.endsWith('.tgz'));
  if (packed.length !== 1 || packed[0] !== `multipart-poster-${version}.tgz`)
    throw new Error(`npm pack made ${JSON.stringify(packed)}`);
  const tarball = join(packDir, packed[0]);

  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  await mustRun('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], app);
  return { tarball, app, installed: join(app, 'node_modules', 'multipart-poster') };
}

/**
 * The paths in a .tgz, read with node:zlib rather than the `tar` program (npm test needs only Node
 * and npm). A ustar header is 512 bytes: the name at 0, the size (octal) at 124, the prefix at 345.
 */
export function listTarball(path: string): string[] {
  const data = gunzipSync(readFileSync(path));
  const names: string[] = [];
  for (let at = 0; at + 512 <= data.length;) {
    const header = data.subarray(at, at + 512);
    if (header.every((byte) => byte === 0)) break;
    const text = (from: number, length: number) => header.toString('utf8', from, from + length).replace(/\0.*$/s, '');
    const prefix = text(345, 155);
    names.push(prefix === '' ? text(0, 100) : `${prefix}/${text(0, 100)}`);
    const size = parseInt(text(124, 12).trim() || '0', 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}
