import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { open } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { defaultSessionDirectory, fileSessionStore, type PartsSession } from '../../src/index.js';
import { tempDir } from '../helpers/files.js';

const session = (n: number): PartsSession => ({
  version: 1,
  protocol: 's3',
  target: 'http://h/b/k',
  path: '/data/f',
  size: n,
  mtimeNs: '1',
  ino: '2',
  dev: '3',
  partSize: 8,
  state: { uploadId: 'u', parts: {} },
  updated: new Date(0).toISOString(),
});

describe('fileSessionStore', () => {
  it('keeps one JSON file per session, written whole (a temporary file renamed over it), none left behind', async () => {
    const dir = join(tempDir(), 'sessions');
    const store = fileSessionStore(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set('key', session(i))));
    await store.set('other', session(100));
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(readdirSync(dir)).toHaveLength(2);
    expect((await store.get('key'))!.size).toBeLessThan(20);
    expect((await store.get('other'))!.size).toBe(100);
    await store.delete('key');
    await store.delete('key');
    expect(await store.get('key')).toBeUndefined();
  });

  it('a file that is not a session (edited, truncated) reads as none', async () => {
    const dir = join(tempDir(), 'sessions');
    const store = fileSessionStore(dir);
    await store.set('key', session(1));
    const [name] = readdirSync(dir);
    for (const text of ['', '{', '{"version":2}', JSON.stringify({ ...session(1), size: 'x' })]) {
      writeFileSync(join(dir, name!), text);
      expect(await store.get('key')).toBeUndefined();
    }
    expect(readFileSync(join(dir, name!), 'utf8')).not.toBe('');
  });

  it('a write that fails (a full disk) leaves no temporary file behind', async () => {
    const dir = join(tempDir(), 'sessions');
    const store = fileSessionStore(dir);
    await store.set('key', session(1));
    const handle = await open(join(dir, readdirSync(dir)[0]!));
    const fileHandle = Object.getPrototypeOf(handle) as { writeFile: () => Promise<void> };
    await handle.close();
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const spy = vi.spyOn(fileHandle, 'writeFile').mockRejectedValue(full);
    try {
      await expect(store.set('key', session(2))).rejects.toBe(full);
      await expect(store.set('other', session(3))).rejects.toBe(full);
    } finally {
      spy.mockRestore();
    }
    expect(readdirSync(dir)).toHaveLength(1);
    expect((await store.get('key'))!.size).toBe(1);
  });

  const fillers: Array<[string, (path: string) => void]> = [
    ['a sparse file of 256 MiB', (path) => (writeFileSync(path, ''), truncateSync(path, 256 * 1024 * 1024))],
    ['a FIFO nobody writes to', (path) => execFileSync('mkfifo', [path])],
    ['a link to /dev/zero', (path) => symlinkSync('/dev/zero', path)],
  ];
  it.each(fillers)('%s in its place reads as none, at once, reading next to nothing', async (what, fill) => {
    const dir = join(tempDir(), 'sessions');
    const store = fileSessionStore(dir);
    await store.set('key', session(1));
    const [name] = readdirSync(dir);
    const path = join(dir, name!);
    rmSync(path);
    fill(path);
    // Bytes this process read (/proc/self/io counts every thread's reads, the pool's included).
    const bytesRead = () => Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
    const within = <T>(promise: Promise<T>) =>
      Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve('pending after 2 s'), 2000).unref())]);
    try {
      const before = bytesRead();
      expect(await within(Promise.resolve(store.get('key')))).toBeUndefined();
      expect(bytesRead() - before).toBeLessThan(1024 * 1024);
      // The next write replaces it with a session.
      await store.set('key', session(2));
      expect((await store.get('key'))!.size).toBe(2);
    } finally {
      // A read left waiting for a writer (an open without O_NONBLOCK) is let go.
      if (what.includes('FIFO')) {
        try {
          closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          // nobody was waiting
        }
      }
    }
  });

  it("a writer killed mid-write leaves a temporary file: an old one goes with its session, a recent one or another's stays", async () => {
    const dir = join(tempDir(), 'sessions');
    const store = fileSessionStore(dir);
    await store.set('key', session(1));
    await store.set('other', session(2));
    const [mine, others] = ['key', 'other'].map((key) =>
      readdirSync(dir).find((name) =>
        readFileSync(join(dir, name), 'utf8').includes(`"size":${key === 'key' ? 1 : 2}`),
      ),
    );
    // What `kill -9` between the write and the rename leaves: FILE.PID.HEX.tmp.
    const leftovers = {
      old: join(dir, `${mine!}.4242.a1b2c3.tmp`),
      recent: join(dir, `${mine!}.4243.d4e5f6.tmp`),
      othersOld: join(dir, `${others!}.4244.0a0b0c.tmp`),
      notOurs: join(dir, `${mine!}.notes.tmp`),
    };
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    for (const [name, path] of Object.entries(leftovers)) {
      writeFileSync(path, '{');
      if (name !== 'recent') utimesSync(path, twoHoursAgo, twoHoursAgo);
    }
    await store.delete('key');
    expect(readdirSync(dir).sort()).toEqual(
      [others!, `${mine!}.4243.d4e5f6.tmp`, `${others!}.4244.0a0b0c.tmp`, `${mine!}.notes.tmp`].sort(),
    );
  });

  it('a directory in its place cannot be replaced: reading it throws', async () => {
    const dir = join(tempDir(), 'sessions');
    const store = fileSessionStore(dir);
    await store.set('key', session(1));
    const [name] = readdirSync(dir);
    rmSync(join(dir, name!));
    mkdirSync(join(dir, name!));
    await expect(store.get('key')).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('makes its directory, every missing level of it, for its owner alone', async () => {
    const dir = join(tempDir(), 'a', 'b', 'sessions');
    await fileSessionStore(dir).set('key', session(1));
    expect(readdirSync(dir)).toHaveLength(1);
    for (const level of [join(dir, '..', '..'), join(dir, '..'), dir]) expect(statSync(level).mode & 0o777).toBe(0o700);
  });

  // Node's mkdir({ recursive: true }) spun there for ever: a run with XDG_STATE_HOME=/proc/self never ended.
  it.runIf(process.platform === 'linux')(
    'a directory the kernel will not make (under /proc) is an error, not a hang',
    async () => {
      const store = fileSessionStore('/proc/self/multipart-poster/sessions');
      await expect(store.set('key', session(1))).rejects.toMatchObject({ code: 'ENOENT' });
    },
    10_000,
  );

  it('the default directory follows XDG_STATE_HOME, else ~/.local/state', () => {
    const saved = process.env.XDG_STATE_HOME;
    try {
      process.env.XDG_STATE_HOME = '/srv/state';
      expect(defaultSessionDirectory()).toBe('/srv/state/multipart-poster/sessions');
      process.env.XDG_STATE_HOME = 'relative';
      expect(defaultSessionDirectory()).toMatch(/\.local\/state\/multipart-poster\/sessions$/);
    } finally {
      if (saved === undefined) delete process.env.XDG_STATE_HOME;
      else process.env.XDG_STATE_HOME = saved;
    }
  });
});
