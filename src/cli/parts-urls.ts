import { spawn } from 'node:child_process';
import { readLimited, TooLarge } from './bounded-read.js';
import { CliError } from './errors.js';

// Where the parts command gets its URLs: S3 part URLs from a file of presigned URLs or from a
// command that prints one per part (the upload was started by whoever presigned them).

export function httpUrl(value: string, option: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
  } catch {
    // reported below
  }
  throw new CliError('usage', `${option} takes an http(s) URL, not ${JSON.stringify(value)}`);
}

export function uploadIdOf(url: string): string {
  const id = new URL(url).searchParams.get('uploadId');
  if (id === null || id === '') throw new CliError('usage', `the URL of part 1 names no uploadId: ${url}`);
  return id;
}

/**
 * Part n's URL, refused (exit 2) when its query names another part or another upload: S3 stores
 * what is sent to such a URL as that other part, over whatever it held, and answers 200 with an
 * ETag that passes every check, so a list with a line twice, or a command that prints part 1's URL
 * for every part, would end in success with parts the server does not hold. A URL that names no
 * part is no part's: S3 takes a PUT without `partNumber` as the whole object.
 */
export function checkedPartUrl(url: string, n: number, uploadId: string): string {
  const query = new URL(url).searchParams;
  const part = query.get('partNumber');
  if (part === null || part === '')
    throw new CliError('usage', `the URL given for part ${n} names no partNumber: ${url}`);
  if (part !== String(n)) throw new CliError('usage', `the URL given for part ${n} is for part ${part}: ${url}`);
  const id = query.get('uploadId');
  if (id !== null && id !== uploadId)
    throw new CliError('usage', `the URL given for part ${n} is for another upload than part 1's (${id}): ${url}`);
  return url;
}

/**
 * The most a --s3-part-urls file may hold: S3's 10,000 parts, each URL under 8 KiB (S3 refuses a
 * request head larger than that), so that a wrong path (`/dev/zero`) fails instead of filling memory.
 */
const URL_LIST_LIMIT = 10_000 * 8 * 1024;

/**
 * Part n's URL from a file of one URL per line (blank lines and # comments skipped). Read without
 * blocking: a FIFO or `<(command)` nobody writes to would otherwise hold the event loop, and with
 * it Ctrl-C, SIGTERM and SIGHUP, which only SIGKILL could then end. `signal` (Ctrl-C) stops the read.
 */
export async function urlList(path: string, signal: AbortSignal): Promise<(n: number) => Promise<string>> {
  let text: string;
  try {
    text = (await readLimited(path, { limit: URL_LIST_LIMIT, signal })).toString('utf8');
  } catch (cause) {
    if (signal.aborted) throw cause;
    const why =
      cause instanceof TooLarge
        ? `it holds more than ${URL_LIST_LIMIT} bytes, 10,000 URLs of 8 KiB`
        : (cause as Error).message;
    throw new CliError('read', `cannot read --s3-part-urls ${JSON.stringify(path)}: ${why}`, cause);
  }
  // Each URL with its line number in FILE, which the skipped lines make differ from its part number.
  const urls = text
    .split('\n')
    .map((line, index) => ({ url: line.trim(), line: index + 1 }))
    .filter(({ url }) => url !== '' && !url.startsWith('#'));
  return async (n) => {
    const entry = urls[n - 1];
    if (entry === undefined)
      throw new CliError('usage', `--s3-part-urls ${path} holds ${urls.length} URLs; part ${n} needs one`);
    return httpUrl(entry.url, `line ${entry.line} of --s3-part-urls (part ${n})`);
  };
}

/**
 * Part n's URL from a shell command run with PART_NUMBER=n (and n as $1): its output's first line,
 * each part asked once. `signal` (Ctrl-C) stops the commands still running.
 */
export function urlCommand(command: string, signal: AbortSignal): (n: number) => Promise<string> {
  const known = new Map<number, Promise<string>>();
  return (n) => {
    let url = known.get(n);
    if (url === undefined) {
      url = runCommand(command, n, signal);
      known.set(n, url);
    }
    return url;
  };
}

const COMMAND_TIMEOUT_MS = 60_000;
const COMMAND_OUTPUT_LIMIT = 64 * 1024;

/**
 * Runs the command in a process group of its own, so that a stop (Ctrl-C, its 60 s, too much
 * output) ends every process it started: a `sleep` left behind would hold the output pipe open,
 * and with it the command line, until it ended.
 */
function runCommand(command: string, n: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new CliError('failure', `--s3-part-command for part ${n}: stopped`));
    const child = spawn('sh', ['-c', command, 'sh', String(n)], {
      env: { ...process.env, PART_NUMBER: String(n) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stop = (why: string) => {
      killGroup(child.pid!);
      child.stdout.destroy();
      child.stderr.destroy();
      reject(new CliError('failure', `--s3-part-command for part ${n}: ${why}`));
    };
    const onAbort = () => stop('stopped');
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => stop(`no answer in ${COMMAND_TIMEOUT_MS / 1000} s`), COMMAND_TIMEOUT_MS);
    const settled = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.length > COMMAND_OUTPUT_LIMIT) stop(`it printed more than ${COMMAND_OUTPUT_LIMIT} bytes`);
    });
    child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-2000)));
    // The command is over once its shell exits, and what it printed is in the pipe: a process it
    // left behind (`sleep 30 &`) would hold the pipe open, and the part waiting, until it ended
    // or the 60 s ran out. Ending it closes the pipe, and 'close' reads the output to its end.
    child.on('exit', () => killGroup(child.pid!));
    child.on('error', (error) => {
      settled();
      reject(error);
    });
    child.on('close', (code, signal) => {
      settled();
      if (code !== 0) {
        const why = `${code ?? signal}${err.trim() ? `: ${err.trim()}` : ''}`;
        return reject(new CliError('failure', `--s3-part-command failed for part ${n} (${why})`));
      }
      try {
        resolve(httpUrl(out.trim().split('\n')[0] ?? '', `what --s3-part-command printed for part ${n}`));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

/** Ends every process of the command's group (its shell and what it started). */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
