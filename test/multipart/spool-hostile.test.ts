import { spawn } from 'node:child_process';
import { getEventListeners, once } from 'node:events';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { multipartEncode, MultipartError, MultipartParam, rawBody, type SpoolOptions } from '../../src/index.js';
import { bytes, tempDir } from '../helpers/files.js';

// Spool against hostile streams: every failure (past maxBytes, past the declared size, an error, an
// abort) is typed, leaves no file, and releases the caller's stream (its iterator returned, a Node
// stream destroyed), so nothing it holds (a child's stdout, a socket, a file) keeps the process alive.

/** A generator that says whether it was released (its finally ran) and how many chunks it gave. */
function tracked(chunk: Buffer, count = Infinity, failAt?: number) {
  const state = { released: false, pulled: 0 };
  const stream = (async function* () {
    try {
      for (; state.pulled < count;) {
        state.pulled++;
        if (state.pulled === failAt) throw new Error('the source broke');
        yield chunk;
      }
    } finally {
      state.released = true;
    }
  })();
  return { stream, state };
}

async function spoolError(source: unknown, spool: SpoolOptions, extra: { size?: number; signal?: AbortSignal } = {}) {
  return rawBody(source as never, { spool, ...extra }).then(
    () => 'spooled',
    (error: unknown) => error,
  );
}

describe('a failed spool releases the stream and leaves nothing', () => {
  const rows: Array<[string, SpoolOptions, { size?: number; failAt?: number; abortAfter?: number }, string]> = [
    ['past maxBytes, in memory', { maxBytes: 100_000 }, {}, 'ERR_SPOOL_LIMIT'],
    ['past maxBytes, in a file', { maxBytes: 3_000_000, memoryLimit: 1000 }, {}, 'ERR_SPOOL_LIMIT'],
    ['past its declared size, in memory', {}, { size: 5 }, 'ERR_SIZE_MISMATCH'],
    ['past its declared size, in a file', { memoryLimit: 0 }, { size: 2_000_000 }, 'ERR_SIZE_MISMATCH'],
    ['a stream that breaks, in memory', {}, { failAt: 3 }, 'ERR_SOURCE_FAILED'],
    ['a stream that breaks, in a file', { memoryLimit: 0 }, { failAt: 40 }, 'ERR_SOURCE_FAILED'],
    ['an abort while it spools', { memoryLimit: 0 }, { abortAfter: 20 }, 'ABORTED'],
  ];
  for (const [label, limits, { size, failAt, abortAfter }, expected] of rows) {
    it(label, async () => {
      const dir = tempDir();
      const { stream, state } = tracked(Buffer.alloc(65_536, 7), Infinity, failAt);
      const controller = new AbortController();
      const reason = new Error('ABORTED');
      const aborting =
        abortAfter === undefined
          ? stream
          : (async function* () {
              for await (const chunk of stream) {
                if (state.pulled === abortAfter) controller.abort(reason);
                yield chunk;
              }
            })();
      const error = await spoolError(aborting, { dir, ...limits }, { size, signal: controller.signal });
      if (expected === 'ABORTED') expect(error).toBe(reason);
      else expect(error).toMatchObject({ name: 'MultipartError', code: expected, paramName: 'body' });
      for (let i = 0; i < 100 && !state.released; i++) await new Promise(setImmediate);
      expect(state.released).toBe(true);
      expect(readdirSync(dir)).toEqual([]);
    });
  }

  it('a stream past its declared size stops one chunk past it, not at maxBytes', async () => {
    const { stream, state } = tracked(Buffer.alloc(1000, 1));
    const error = await spoolError(stream, {}, { size: 5 });
    expect(error).toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
    expect(state.pulled).toBe(1);
  });

  it('a stream shorter than its declared size is ERR_SIZE_MISMATCH, and leaves nothing', async () => {
    const dir = tempDir();
    const error = await spoolError(tracked(Buffer.alloc(65_536), 40).stream, { dir, memoryLimit: 0 }, { size: 3e6 });
    expect(error).toMatchObject({ code: 'ERR_SIZE_MISMATCH', message: expect.stringContaining('2621440 bytes') });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a child process's stdout past maxBytes is let go of: the child is not kept writing forever", async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => process.stdout.write("x".repeat(65536)), 1)'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    try {
      const error = await spoolError(child.stdout, { maxBytes: 1_000_000 });
      expect(error).toMatchObject({ code: 'ERR_SPOOL_LIMIT' });
      expect(child.stdout.destroyed).toBe(true);
      // with its stdout closed, the child's next write fails with EPIPE and it dies of it
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      expect(code !== 0 || signal !== null).toBe(true);
    } finally {
      clearTimeout(killer);
      child.kill('SIGKILL');
    }
  });

  it('a socket past maxBytes is destroyed', async () => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      const timer = setInterval(() => socket.write(Buffer.alloc(65_536)), 1);
      socket.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      const error = await spoolError(socket, { maxBytes: 500_000 });
      expect(error).toMatchObject({ code: 'ERR_SPOOL_LIMIT' });
      expect(socket.destroyed).toBe(true);
    } finally {
      server.close();
    }
  });

  it('50 silent streams spooling with one signal put one listener on it, and all stop on its abort', async () => {
    const controller = new AbortController();
    const readables = Array.from({ length: 50 }, () => {
      const readable = new Readable({ read() {} });
      readable.push(Buffer.alloc(10));
      return readable;
    });
    const pending = readables.map((readable) => spoolError(readable, {}, { signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort(new Error('stop'));
    for (const error of await Promise.all(pending)) expect(error).toMatchObject({ message: 'stop' });
    expect(readables.every((readable) => readable.destroyed)).toBe(true);
  });

  it('a Readable that never yields again is destroyed on abort', async () => {
    const readable = new Readable({ read() {} });
    readable.push(Buffer.alloc(10));
    const controller = new AbortController();
    const pending = spoolError(readable, {}, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error('stop'));
    expect(await pending).toMatchObject({ message: 'stop' });
    expect(readable.destroyed).toBe(true);
  });
});

describe('a silent stream aborted while it spools is let go of at once', () => {
  /** A socket to a server that sends 2 MiB, then nothing, never ending. */
  async function silentSocket() {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.write(Buffer.alloc(2 * 1024 * 1024, 0x63));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    return { socket, server };
  }

  it('a web ReadableStream over a socket (Readable.toWeb): its reader is cancelled, the socket destroyed', async () => {
    const { socket, server } = await silentSocket();
    try {
      const dir = tempDir();
      const controller = new AbortController();
      const reason = new Error('stop');
      // In memory (no disk writes to wait for): once every byte came and was taken, a read is pending.
      const pending = spoolError(
        Readable.toWeb(socket),
        { dir, memoryLimit: 4 * 1024 * 1024 },
        { signal: controller.signal },
      );
      while (socket.bytesRead < 2 * 1024 * 1024) await once(socket, 'data');
      for (let turn = 0; turn < 10; turn++) await new Promise(setImmediate);
      controller.abort(reason);
      expect(await pending).toBe(reason);
      const closed = new Promise((resolve) => socket.once('close', () => resolve('closed')));
      const late = new Promise((resolve) => setTimeout(resolve, 5000, 'still open')).then(String);
      expect(socket.destroyed || (await Promise.race([closed, late])) === 'closed').toBe(true);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      socket.destroy();
      server.close();
    }
  });

  it('a plain async iterator: the spool fails at once and its return() is asked for, not waited on', async () => {
    let returned = false;
    let pulls = 0;
    const iterator: AsyncIterator<Uint8Array> = {
      next: () => (pulls++ === 0 ? Promise.resolve({ done: false, value: Buffer.alloc(10) }) : new Promise(() => {})),
      return: () => {
        returned = true;
        return new Promise(() => {}); // an async generator's return() waits behind its pending next()
      },
    };
    const controller = new AbortController();
    const pending = spoolError({ [Symbol.asyncIterator]: () => iterator }, {}, { signal: controller.signal });
    for (let turn = 0; turn < 100 && pulls < 2; turn++) await new Promise(setImmediate);
    controller.abort(new Error('stop'));
    expect(await pending).toMatchObject({ message: 'stop' });
    expect(returned).toBe(true);
  });
});

describe("the spool's own disk failing is ERR_SPOOL_FAILED, not the caller's stream", () => {
  it('spool.dir is a regular file', async () => {
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    const error = await spoolError(Readable.from([bytes(100_000)]), { dir: file, memoryLimit: 1000 });
    expect(error).toMatchObject({ name: 'MultipartError', code: 'ERR_SPOOL_FAILED', paramName: 'body' });
    expect((error as Error).cause).toMatchObject({ code: 'EEXIST' });
  });

  it('spool.dir removed while the stream is spooled, and nothing is left', async () => {
    const dir = join(tempDir(), 'spool');
    mkdirSync(dir);
    const stream = (async function* () {
      for (let i = 0; i < 40; i++) {
        if (i === 20) rmSync(dir, { recursive: true, force: true });
        yield Buffer.alloc(65_536, i);
      }
    })();
    const error = await spoolError(stream, { dir, memoryLimit: 0 });
    expect(error).toMatchObject({ name: 'MultipartError', code: 'ERR_SPOOL_FAILED', paramName: 'body' });
    expect((error as Error).cause).toMatchObject({ code: 'ENOENT' });
  });

  it("a caller's stream that fails is still ERR_SOURCE_FAILED, even one whose next() throws", async () => {
    const throwing = {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          throw new Error('sync throw');
        },
      }),
    };
    expect(await spoolError(throwing, {})).toMatchObject({ code: 'ERR_SOURCE_FAILED', paramName: 'body' });
  });
});

describe('no spool file outlives an encoding that fails after spooling', () => {
  it('a chosen boundary found in a stream spooled to memory, after another went to a file', async () => {
    const dir = tempDir();
    const big = tracked(Buffer.alloc(65_536, 65), 40).stream;
    const small = Readable.from([
      Buffer.from('x\r\n--Chosen\r\nContent-Disposition: form-data; name="role"\r\n\r\nadmin'),
    ]);
    const error = await multipartEncode(
      { big: new MultipartParam('big', { fileobj: big }), small: new MultipartParam('small', { fileobj: small }) },
      { boundary: 'Chosen', spool: { dir } },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MultipartError);
    expect(error).toMatchObject({ code: 'ERR_BOUNDARY_IN_DATA' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a nested body whose boundary starts with the outer one, beside a spooled stream', async () => {
    const dir = tempDir();
    const inner = await multipartEncode([new MultipartParam(null, { value: 'x' })], {
      subtype: 'mixed',
      boundary: 'OUTER-inner',
    });
    const error = await multipartEncode(
      { big: new MultipartParam('big', { fileobj: tracked(Buffer.alloc(65_536), 40).stream }), inner },
      { boundary: 'OUTER', spool: { dir } },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_INVALID_BOUNDARY' });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('spool options out of range are ERR_INVALID_OPTION', () => {
  const bad: Array<[string, unknown]> = [
    ['memoryLimit NaN', { memoryLimit: NaN }],
    ['memoryLimit Infinity', { memoryLimit: Infinity }],
    ['memoryLimit -1', { memoryLimit: -1 }],
    ['memoryLimit 1.5', { memoryLimit: 1.5 }],
    ['maxBytes 2**53', { maxBytes: 2 ** 53 }],
    ['maxBytes "10"', { maxBytes: '10' }],
    ['dir 3', { dir: 3 }],
    ['a misspelt key', { maxbytes: 1 }],
    ['a string', 'yes'],
    ['an array', []],
  ];
  it.each(bad)('%s', async (_label, spool) => {
    await expect(multipartEncode({ a: 'b' }, { spool: spool as never })).rejects.toMatchObject({
      name: 'MultipartError',
      code: 'ERR_INVALID_OPTION',
    });
  });

  it('-0 and 0 are whole numbers: memoryLimit 0 spools to a file at once', async () => {
    const dir = tempDir();
    const body = await rawBody(Readable.from([bytes(10)]), { spool: { dir, memoryLimit: -0 } });
    expect(readdirSync(dir)).toHaveLength(1);
    await body.dispose();
    expect(readdirSync(dir)).toEqual([]);
  });
});
