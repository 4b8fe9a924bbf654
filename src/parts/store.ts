import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { crypto } from '../common/lazy.js';

/**
 * The largest session file read: 16 MiB. A session of S3's most parts (10,000) takes about 2 MiB;
 * a larger file is not one this library wrote, and is read as none rather than loaded whole.
 */
const SESSION_FILE_LIMIT = 16 * 1024 * 1024;

/**
 * A saved upload: which file (its path and identity when the upload began), where it goes, and
 * the protocol's state (the S3 UploadId and the parts stored, the tus or Google session URL).
 * Plain JSON. A session is resumed only into the same file: same path, size, mtime, inode and device.
 */
export interface PartsSession {
  version: 1;
  protocol: string;
  target: string;
  path: string;
  size: number;
  /** The file's mtime in nanoseconds, its inode and device, as decimal strings (exact at any size). */
  mtimeNs: string;
  ino: string;
  dev: string;
  partSize: number;
  state: unknown;
  /** When it was last written (ISO 8601). */
  updated: string;
}

/** Where sessions are kept: a JSON file per session by default (`fileSessionStore`), or your own. */
export interface SessionStore {
  get(key: string): PartsSession | undefined | Promise<PartsSession | undefined>;
  set(key: string, session: PartsSession): void | Promise<void>;
  delete(key: string): void | Promise<void>;
}

/** `$XDG_STATE_HOME/multipart-poster/sessions`, else `~/.local/state/...` (`%LOCALAPPDATA%` on Windows). */
export function defaultSessionDirectory(): string {
  const env = process.env;
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'multipart-poster', 'sessions');
  const state = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : undefined;
  return join(state ?? join(homedir(), '.local', 'state'), 'multipart-poster', 'sessions');
}

/**
 * Sessions as JSON files in `directory` (default: `defaultSessionDirectory()`), one file per
 * session, so that two processes uploading different files never overwrite each other's. Each
 * write goes to a temporary file beside it, flushed to disk, then renamed over the old one: a
 * process killed at any moment leaves the old session or the new one, never half of either.
 */
export function fileSessionStore(directory: string = defaultSessionDirectory()): SessionStore {
  const fileOf = (key: string) =>
    join(directory, `${crypto().createHash('sha256').update(key).digest('hex').slice(0, 40)}.json`);
  return {
    async get(key) {
      const text = await readSessionFile(fileOf(key));
      return text === undefined ? undefined : parseSession(text);
    },
    async set(key, session) {
      await makeDirectory(directory);
      const file = fileOf(key);
      const temporary = `${file}.${process.pid}.${crypto().randomBytes(6).toString('hex')}.tmp`;
      const handle = await open(temporary, 'w', 0o600);
      try {
        try {
          await handle.writeFile(JSON.stringify(session));
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temporary, file);
      } catch (error) {
        // A write that failed (a full disk) leaves no temporary file behind, as a rename that failed.
        await unlink(temporary).catch(() => {});
        throw error;
      }
    },
    async delete(key) {
      const file = fileOf(key);
      await unlink(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      await removeStaleTemporaries(file);
    },
  };
}

/** A temporary file this old was left by a write that never finished (a process killed mid-write). */
const STALE_TEMPORARY_MS = 60 * 60 * 1000;

/**
 * Removes the temporary files of `file`'s session that a killed writer left (`FILE.PID.HEX.tmp`),
 * once the session itself is gone. Only old ones: a write takes milliseconds, and one under way in
 * another process (another PID namespace may share the folder) is never touched. Best effort.
 */
async function removeStaleTemporaries(file: string): Promise<void> {
  const prefix = `${basename(file)}.`;
  const names = await readdir(dirname(file)).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+\.[0-9a-f]+\.tmp$/.test(name.slice(prefix.length))) continue;
    const path = join(dirname(file), name);
    const stats = await lstat(path).catch(() => undefined);
    if (stats?.isFile() && now - stats.mtimeMs > STALE_TEMPORARY_MS) await unlink(path).catch(() => {});
  }
}

/**
 * A session file's text, or undefined when there is none or what is there cannot be one: larger
 * than SESSION_FILE_LIMIT, or not a regular file (a FIFO, a link to /dev/zero), which the next
 * write's rename replaces. A directory there cannot be replaced: its EISDIR is thrown.
 */
async function readSessionFile(file: string): Promise<string | undefined> {
  let handle;
  try {
    // O_NONBLOCK: a FIFO in its place does not hold the open (and a thread of the pool) until a writer comes.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw Object.assign(new Error(`${file} is a directory`), { code: 'EISDIR' });
    if (!stats.isFile() || stats.size > SESSION_FILE_LIMIT) return undefined;
    // One byte more than its size: a file that grows while it is read is not read on and on.
    const buffer = Buffer.allocUnsafe(stats.size + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) return buffer.toString('utf8', 0, length);
      length += bytesRead;
      if (length === buffer.length) return undefined;
    }
  } finally {
    await handle.close();
  }
}

/**
 * `mkdir -p`, a level at a time. Node's own `recursive: true` never settles, and spins a thread of
 * the pool, where the kernel answers ENOENT for a folder whose parent exists (under /proc, as
 * with XDG_STATE_HOME=/proc/self): the process could then neither finish nor exit, even on SIGTERM.
 */
async function makeDirectory(directory: string): Promise<void> {
  try {
    await mkdir(directory, { mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = dirname(directory);
    if (code !== 'ENOENT' || parent === directory) throw error;
    await makeDirectory(parent);
    // Once: a parent that exists and a folder still refused is the answer, not a reason to go on.
    await mkdir(directory, { mode: 0o700 }).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}

/** A session read back, or undefined when the text is not one (edited by hand, another version's). */
export function parseSession(text: string): PartsSession | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isSession(value) ? value : undefined;
}

export function isSession(value: unknown): value is PartsSession {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  return (
    s.version === 1 &&
    ['protocol', 'target', 'path', 'mtimeNs', 'ino', 'dev', 'updated'].every((key) => typeof s[key] === 'string') &&
    Number.isSafeInteger(s.size) &&
    Number.isSafeInteger(s.partSize) &&
    (s.partSize as number) > 0
  );
}
