import { execFileSync } from 'node:child_process';
import { appendFileSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  multipartEncode,
  MultipartError,
  MultipartParam,
  rawBody,
  upload,
  UploadError,
  type EncodedBody,
  type RetryOptions,
  type UploadOptions,
} from '../../src/index.js';
import { bytes, openFilesUnder, tempDir, writeFile } from '../helpers/files.js';
import { json, startServer } from '../helpers/servers.js';

// Bodies whose sources lie about their size or change under the upload, and callbacks that throw:
// each upload settles with a typed UploadError whose cause is the original, every file is closed,
// and the server sees an aborted request, never a short body passed off as whole.

const dir = tempDir();
const MiB = 1024 * 1024;

/** How each request ended on the server: 'end' (whole) or 'aborted', and how many body bytes came. */
const endings: Array<{ ended: 'end' | 'aborted'; bytes: number }> = [];
const server = await startServer((req: IncomingMessage, res: ServerResponse) => {
  let length = 0;
  let done = false;
  req.on('data', (chunk: Buffer) => (length += chunk.length));
  req.on('end', () => {
    done = true;
    endings.push({ ended: 'end', bytes: length });
    json(res, 200, { length });
  });
  req.on('close', () => {
    if (!done) endings.push({ ended: 'aborted', bytes: length });
  });
});

/** The code of the failure, with its cause's class and code: `ERR_SIZE_MISMATCH <- MultipartError ERR_SIZE_MISMATCH`. */
async function failure(make: () => Promise<EncodedBody> | EncodedBody, options: UploadOptions = {}): Promise<string> {
  const error = await upload(server.url, await make(), { expectContinue: false, timeout: 5000, retry: 0, ...options })
    .then(async (response) => `answered ${response.status}: ${await response.text()}`)
    .catch((e: unknown) => e);
  if (typeof error === 'string') return error;
  if (!(error instanceof UploadError)) return `untyped ${String(error)}`;
  expect(error.message).not.toMatch(/undefined undefined|a Object/);
  const cause = error.cause as { name?: string; code?: string } | undefined;
  return cause instanceof MultipartError ? `${error.code} <- MultipartError ${cause.code}` : error.code;
}

const streamOf = (chunks: unknown[], thenHang = false) =>
  (async function* () {
    for (const chunk of chunks) yield chunk as Uint8Array;
    if (thenHang) await new Promise(() => {});
  })();

const blobLike = (declared: () => number, data: Uint8Array, stream?: () => unknown) => {
  const blob = {
    get size() {
      return declared();
    },
    type: '',
    stream: stream ?? (() => new Blob([data]).stream()),
    slice: () => blob,
    arrayBuffer: async () => new ArrayBuffer(0),
  };
  return blob;
};

describe('sources that lie about their size or change under the upload', () => {
  const rows: Array<[string, () => Promise<EncodedBody>, string]> = [
    [
      'a stream that declares 10 bytes and yields 5',
      () => rawBody(streamOf([bytes(5)]), { size: 10 }),
      'ERR_SIZE_MISMATCH <- MultipartError ERR_SIZE_MISMATCH',
    ],
    [
      'a stream that declares 5 bytes and yields 10',
      () => rawBody(streamOf([bytes(10)]), { size: 5 }),
      'ERR_SIZE_MISMATCH <- MultipartError ERR_SIZE_MISMATCH',
    ],
    [
      'a stream that declares 1 MiB and yields 2 MiB',
      () => rawBody(streamOf([bytes(MiB), bytes(MiB)]), { size: MiB }),
      'ERR_SIZE_MISMATCH <- MultipartError ERR_SIZE_MISMATCH',
    ],
    [
      'a stream that throws half way',
      () =>
        rawBody(
          (async function* () {
            yield bytes(MiB);
            throw new Error('disk gone');
          })(),
          { size: 2 * MiB },
        ),
      'ERR_REQUEST_FAILED <- MultipartError ERR_SOURCE_FAILED',
    ],
    [
      'a stream that yields a number',
      () => rawBody(streamOf([bytes(10), 42]), { size: 20 }),
      'ERR_REQUEST_FAILED <- MultipartError ERR_INVALID_VALUE',
    ],
    [
      'a Blob-like whose size grows after it was measured',
      async () => {
        let size = 3;
        const body = await rawBody(blobLike(() => size, bytes(8)) as never);
        size = 8;
        return body;
      },
      'ERR_SIZE_MISMATCH <- MultipartError ERR_SIZE_MISMATCH',
    ],
    [
      'a Blob-like whose stream() throws',
      () =>
        rawBody(
          blobLike(
            () => 4,
            bytes(4),
            () => {
              throw new Error('no stream');
            },
          ) as never,
        ),
      'ERR_REQUEST_FAILED <- MultipartError ERR_SOURCE_FAILED',
    ],
    [
      'a file that grows after it was measured',
      async () => {
        const path = writeFile(dir, 'grows.bin', bytes(MiB));
        const body = await rawBody(path);
        appendFileSync(path, 'more');
        return body;
      },
      'ERR_SIZE_MISMATCH <- MultipartError ERR_SIZE_MISMATCH',
    ],
    [
      'a file that shrinks after it was measured',
      async () => {
        const path = writeFile(dir, 'shrinks.bin', bytes(3 * MiB));
        const body = await rawBody(path);
        truncateSync(path, MiB);
        return body;
      },
      'ERR_SIZE_MISMATCH <- MultipartError ERR_SIZE_MISMATCH',
    ],
    [
      'a file removed after it was measured',
      async () => {
        const path = writeFile(dir, 'removed.bin', bytes(MiB));
        const body = await rawBody(path);
        rmSync(path);
        return body;
      },
      'ERR_REQUEST_FAILED <- MultipartError ERR_FILE_UNREADABLE',
    ],
    [
      'a file replaced by a FIFO nobody writes to',
      async () => {
        const path = writeFile(dir, 'fifo.bin', bytes(100));
        const body = await rawBody(path);
        rmSync(path);
        execFileSync('mkfifo', [path]);
        return body;
      },
      'ERR_REQUEST_FAILED <- MultipartError ERR_FILE_UNREADABLE',
    ],
    [
      'bytes whose ArrayBuffer was transferred after they were measured',
      async () => {
        const data = new Uint8Array(new ArrayBuffer(1000));
        const body = await rawBody(data);
        structuredClone(data.buffer, { transfer: [data.buffer] });
        return body;
      },
      'ERR_SIZE_MISMATCH <- MultipartError ERR_SIZE_MISMATCH',
    ],
    ['a stream that never yields again', () => rawBody(streamOf([bytes(100)], true), { size: 200 }), 'ERR_TIMEOUT'],
  ];
  for (const [label, make, expected] of rows) {
    it(label, async () => {
      const before = endings.length;
      expect(await failure(make, { timeout: 1000 })).toBe(expected);
      expect(openFilesUnder(dir)).toEqual([]);
      for (let i = 0; i < 100 && endings.length === before; i++) await new Promise((r) => setTimeout(r, 10));
      // the server never takes a short or long body for a whole one
      for (const ending of endings.slice(before)) expect(ending.ended).toBe('aborted');
    });
  }
});

describe('upload({ spool }) of a stream that never ends', () => {
  it('settles at its timeout and leaves no temporary file', async () => {
    const spoolDir = tempDir();
    const never = streamOf([Buffer.alloc(2_000_000)], true);
    await expect(
      upload(
        server.url,
        { f: new MultipartParam('f', { fileobj: never }) },
        { spool: { dir: spoolDir }, timeout: 300 },
      ),
    ).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(readdirSync(spoolDir)).toEqual([]);
  });
});

describe('callbacks that throw: ERR_CALLBACK_FAILED, the throw kept as cause', () => {
  const thrown: Array<[string, unknown]> = [
    ['an Error', new Error('boom')],
    ['a string', 'a string'],
    ['undefined', undefined],
    ['an object with a message', { message: 'an object' }],
    // Neither can be turned into text: the error that reports them must still be made.
    ['an object with no prototype', Object.create(null)],
    ['a Proxy whose every trap throws', hostileProxy()],
  ];
  const large = async () => rawBody(writeFile(dir, 'cb.bin', bytes(2 * MiB)));
  for (const [name, value] of thrown) {
    const toss = () => {
      throw value;
    };
    const rows: Array<[string, () => Promise<EncodedBody>, UploadOptions]> = [
      ['onUploadProgress', large, { onUploadProgress: toss }],
      ['onBodySent', large, { onBodySent: toss }],
      ["a param's cb", async () => multipartEncode({ f: new MultipartParam('f', { value: 'x', cb: toss }) }), {}],
      ["the body's onProgress", async () => rawBody(bytes(100), { onProgress: toss }), {}],
      ['the agent function', large, { agent: toss }],
    ];
    for (const [label, make, options] of rows) {
      it(`${label} throwing ${name}`, async () => {
        const result = await failure(make, options);
        expect(result).toMatch(/^ERR_CALLBACK_FAILED/);
        expect(openFilesUnder(dir)).toEqual([]);
      });
    }
  }

  // An async callback cannot throw: it rejects, after its call. Its rejection is the same failure,
  // never an unhandled rejection (which would end the process, and fails this suite).
  for (const [name, value] of thrown) {
    const reject = async () => {
      throw value;
    };
    const rows: Array<[string, () => Promise<EncodedBody>, UploadOptions, string]> = [
      ['onUploadProgress', large, { onUploadProgress: reject }, 'ERR_CALLBACK_FAILED'],
      ['onBodySent', large, { onBodySent: reject }, 'ERR_CALLBACK_FAILED'],
      [
        "a param's cb",
        async () => multipartEncode({ f: new MultipartParam('f', { value: 'x', cb: reject }) }),
        {},
        'ERR_CALLBACK_FAILED <- MultipartError ERR_CALLBACK_FAILED',
      ],
      [
        "the body's onProgress",
        async () => rawBody(bytes(100), { onProgress: reject }),
        {},
        'ERR_CALLBACK_FAILED <- MultipartError ERR_CALLBACK_FAILED',
      ],
      // Its promise is not an agent: refused for that, its rejection handled.
      ['the agent function', large, { agent: reject as never }, 'ERR_INVALID_OPTION'],
    ];
    for (const [label, make, options, expected] of rows) {
      it(`an async ${label} rejecting with ${name}`, async () => {
        expect(await failure(make, options)).toBe(expected);
        expect(openFilesUnder(dir)).toEqual([]);
      });
    }
  }

  // Rejects once, 100 ms after its first call: after the 503 came, while the retry waits.
  const rejectLater = () => {
    let calls = 0;
    return async () => {
      if (calls++ > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
      throw new Error('later');
    };
  };
  it.each<[string, () => UploadOptions]>([
    ['onUploadProgress', () => ({ onUploadProgress: rejectLater() })],
    ['onBodySent', () => ({ onBodySent: rejectLater() })],
  ])('an async %s whose rejection comes in a retry wait fails the upload there', async (_label, callbacks) => {
    let requests = 0;
    const flaky = await startServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => json(res, requests === 1 ? 503 : 200, {}));
    });
    const started = Date.now();
    const error = await upload(flaky.url, await rawBody(bytes(1000)), {
      method: 'PUT',
      expectContinue: false,
      retry: { limit: 1, backoff: 2000 },
      ...callbacks(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_CALLBACK_FAILED' });
    expect(requests).toBe(1);
    expect(Date.now() - started).toBeLessThan(1500); // not after the wait: during it
  });

  it.each<[string, RetryOptions, string]>([
    ['retry.onRetry', { onRetry: async () => Promise.reject(new Error('later')) }, 'ERR_CALLBACK_FAILED'],
    ['retry.backoff', { backoff: (async () => Promise.reject(new Error('later'))) as never }, 'ERR_INVALID_OPTION'],
  ])('an async %s that rejects, nothing unhandled', async (_label, retry, code) => {
    const busy = await startServer((req, res) => {
      req.resume();
      req.on('end', () => json(res, 503, {}));
    });
    const error = await upload(busy.url, { a: 'b' }, { method: 'PUT', retry: { ...retry, limit: 3 } }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code });
  });

  const retryCallbacks = (value: () => unknown): Array<[string, RetryOptions]> => [
    ['retry.onRetry', { onRetry: () => void value() }],
    ['retry.backoff', { backoff: () => value() as number }],
  ];
  it.each([
    ...retryCallbacks(() => {
      throw new Error('no');
    }).map(([label, retry]): [string, RetryOptions, unknown] => [label, retry, { message: 'no' }]),
    ...retryCallbacks(() => {
      throw Object.create(null);
    }).map(([label, retry]): [string, RetryOptions, unknown] => [`${label}, no prototype`, retry, {}]),
  ])('%s', async (_label, retry, cause) => {
    const busy = await startServer((req, res) => {
      req.resume();
      req.on('end', () => json(res, 503, {}));
    });
    const error = await upload(busy.url, { a: 'b' }, { method: 'PUT', retry }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ code: 'ERR_CALLBACK_FAILED', cause });
  });
});

/** A value that throws on every operation: reading a property, its prototype, turning it into text. */
function hostileProxy(): object {
  const refuse = () => {
    throw new Error('trap');
  };
  return new Proxy({}, { get: refuse, getPrototypeOf: refuse, has: refuse, ownKeys: refuse, apply: refuse });
}
