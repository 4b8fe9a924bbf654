import { getEventListeners } from 'node:events';
import { appendFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import {
  googleResumable,
  PartsError,
  s3Parts,
  tus,
  uploadParts,
  type PartsProtocol,
  type SessionStore,
} from '../../src/index.js';
import { openFilesUnder, tempDir } from '../helpers/files.js';
import { startServer } from '../helpers/servers.js';
import { startS3Fake } from './fakes/s3.js';
import { bytesOf, KiB, MiB, randomFile, s3ForFake } from './helpers.js';

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as PartsError,
  );
const dummy = s3Parts({ start: 'http://127.0.0.1:9/b/k?uploads', partUrl: () => 'http://127.0.0.1:9/b/k' });

describe('uploadParts: hostile options, each a typed ERR_INVALID_OPTION before anything is read or sent', () => {
  const cases: Array<[string, unknown]> = [
    ['no options', undefined],
    ['no protocol', {}],
    ['a protocol that is not one', { protocol: { name: 's3' } }],
    ['partSize NaN', { protocol: dummy, partSize: NaN }],
    ['partSize Infinity', { protocol: dummy, partSize: Infinity }],
    ['partSize 0', { protocol: dummy, partSize: 0 }],
    ['partSize negative', { protocol: dummy, partSize: -1 }],
    ['partSize over 5 GiB for S3', { protocol: dummy, partSize: 2 ** 33 }],
    ['concurrency 0', { protocol: dummy, concurrency: 0 }],
    ['concurrency 65', { protocol: dummy, concurrency: 65 }],
    ['concurrency 2**31', { protocol: dummy, concurrency: 2 ** 31 }],
    ['concurrency a string', { protocol: dummy, concurrency: '4' }],
    ['a misspelt key', { protocol: dummy, concurency: 4 }],
    ['store a number', { protocol: dummy, store: 5 }],
    ['store an empty path', { protocol: dummy, store: '' }],
    ['store without delete', { protocol: dummy, store: { get() {}, set() {} } }],
    ['keepSession "yes"', { protocol: dummy, keepSession: 'yes' }],
    ['signal not a signal', { protocol: dummy, signal: {} }],
    ['signal without removeEventListener', { protocol: dummy, signal: { aborted: false, addEventListener() {} } }],
    ['onProgress not a function', { protocol: dummy, onProgress: 5 }],
    ['retry.limit negative', { protocol: dummy, retry: { limit: -1 } }],
    ['retry misspelt', { protocol: dummy, retry: { limt: 2 } }],
    ['timeout Infinity', { protocol: dummy, timeout: Infinity }],
    ['agent not an agent', { protocol: dummy, agent: {} }],
    ['http2 "yes"', { protocol: dummy, http2: 'yes' }],
    ['http2 1', { protocol: dummy, http2: 1 }],
    ['maxRate 0', { protocol: dummy, maxRate: 0 }],
    ['maxRate NaN', { protocol: dummy, maxRate: NaN }],
    ['maxRate Infinity', { protocol: dummy, maxRate: Infinity }],
    ['maxRate negative', { protocol: dummy, maxRate: -1 }],
    ['maxRate fractional', { protocol: dummy, maxRate: 1.5 }],
    ['maxRate 2**53', { protocol: dummy, maxRate: 2 ** 53 }],
    ['maxRate a string', { protocol: dummy, maxRate: '1M' }],
  ];
  it.each(cases)('%s', async (_name, options) => {
    const file = randomFile(tempDir(), 'x.bin', 10);
    const error = await rejection(uploadParts(file.path, options as never));
    expect(error).toBeInstanceOf(PartsError);
    expect(error!.code).toBe('ERR_INVALID_OPTION');
  });

  const factories: Array<[string, () => unknown]> = [
    ['s3Parts without partUrl', () => s3Parts({ start: 'http://h/k' } as never)],
    ['s3Parts with start and uploadId', () => s3Parts({ start: 'http://h/k', uploadId: 'u', partUrl: () => '' })],
    ['s3Parts with neither', () => s3Parts({ partUrl: () => '' })],
    ['s3Parts with an ftp start', () => s3Parts({ start: 'ftp://h/k', partUrl: () => '' })],
    ['s3Parts checksum crc64', () => s3Parts({ uploadId: 'u', partUrl: () => '', checksum: 'crc64' as never })],
    [
      's3Parts a header with CRLF',
      () => s3Parts({ uploadId: 'u', partUrl: () => '', headers: { 'x-a': 'b\r\nc: d' } }),
    ],
    ['s3Parts misspelt', () => s3Parts({ uploadId: 'u', partUrl: () => '', completUrl: () => '' } as never)],
    ['tus without endpoint', () => tus({})],
    ['tus metadata name with a space', () => tus({ endpoint: 'http://h/files', metadata: { 'a b': 'c' } })],
    ['tus metadata value not a string', () => tus({ endpoint: 'http://h/files', metadata: { a: 1 as never } })],
    ['tus checksum crc', () => tus({ endpoint: 'http://h/files', checksum: 'crc' as never })],
    [
      'googleResumable with start and sessionUrl',
      () => googleResumable({ start: 'http://h/u', sessionUrl: 'http://h/s' }),
    ],
    ['googleResumable metadata a string', () => googleResumable({ start: 'http://h/u', metadata: 'x' as never })],
  ];
  it.each(factories)('%s', (_name, make) => {
    expect(make).toThrow(PartsError);
    try {
      make();
    } catch (error) {
      expect((error as PartsError).code).toBe('ERR_INVALID_OPTION');
    }
  });
});

describe('uploadParts: sources', () => {
  it('a stream cannot be read again: ERR_INVALID_VALUE', async () => {
    const error = await rejection(uploadParts(Readable.from(['x']) as never, { protocol: dummy, store: false }));
    expect(error!.code).toBe('ERR_INVALID_VALUE');
  });

  it('a missing file and a directory: ERR_INVALID_VALUE', async () => {
    const dir = tempDir();
    for (const path of [join(dir, 'missing'), dir, '']) {
      const error = await rejection(uploadParts(path, { protocol: dummy, store: false }));
      expect(error!.code).toBe('ERR_INVALID_VALUE');
    }
  });

  it('bytes and a Blob are sent like a file (no session kept for them)', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const { data, sha256 } = bytesOf(200 * KiB + 3);
    for (const [key, source] of [
      ['bytes', data],
      ['blob', new Blob([data])],
    ] as const) {
      const store: SessionStore = { get: () => expect.fail('no session for bytes'), set: () => {}, delete: () => {} };
      await uploadParts(source, { protocol: s3ForFake(fake, key), partSize: 64 * KiB, store });
      expect(fake.objects.get(key)?.sha256).toBe(sha256);
    }
  });

  it('a Blob whose slices hold other than its size says: ERR_SOURCE_CHANGED, never an object of another size', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const real = new Blob([bytesOf(100).data]);
    const blobLike = (size: number, slice: (start: number, end: number) => Blob) => ({
      size,
      type: '',
      slice,
      stream: () => real.stream(),
      arrayBuffer: () => real.arrayBuffer(),
      [Symbol.toStringTag]: 'Blob',
    });
    const liars = [
      blobLike(200, (start, end) => real.slice(start, end)), // says 200 bytes, holds 100
      blobLike(100, () => real.slice(0, 40)), // each slice 40 bytes, whatever was asked
    ];
    for (const liar of liars) {
      // verifyETag: false (SSE-KMS) leaves no MD5 to catch a part of the wrong size.
      const protocol = s3ForFake(fake, 'liar', { verifyETag: false });
      const error = await rejection(uploadParts(liar as never, { protocol, partSize: 30, store: false }));
      expect(error!.code).toBe('ERR_SOURCE_CHANGED');
      expect(fake.objects.size).toBe(0);
    }
  });

  it('a file that changes while it is sent: ERR_SOURCE_CHANGED, the upload abandoned', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'changing.bin', 4 * MiB);
    fake.fault = ({ partNumber, attempt }) => {
      if (partNumber === 2 && attempt === 1) truncateSync(file.path, 3 * MiB);
      return undefined;
    };
    const error = await rejection(
      uploadParts(file.path, {
        protocol: s3ForFake(fake, 'changing.bin'),
        partSize: MiB,
        concurrency: 1,
        store: false,
      }),
    );
    expect(error!.code).toBe('ERR_SOURCE_CHANGED');
    expect(error!.abandoned).toBe(true);
    expect(fake.objects.size).toBe(0);
  });
});

describe('uploadParts: a file that changes while its last piece is on the wire', () => {
  const SIZE = MiB;
  const changes: Array<[string, (path: string) => void]> = [
    ['rewritten in place, same size', (path) => writeFileSync(path, Buffer.alloc(SIZE, 0x41), { flag: 'r+' })],
    ['truncated to half', (path) => truncateSync(path, SIZE / 2)],
    ['grown by 1000 bytes', (path) => appendFileSync(path, Buffer.alloc(1000, 1))],
  ];
  /** One server for the three protocols; the file changes as the first bytes of its one piece arrive. */
  async function serverChanging(path: string, change: (path: string) => void) {
    const seen = { received: 0, completed: false };
    let changed = false;
    const server = await startServer((req, res) => {
      const path_ = new URL(req.url!, 'http://x').pathname;
      req.on('data', (chunk: Buffer) => {
        if (!changed) change(path);
        changed = true;
        seen.received += chunk.length;
      });
      req.on('end', () => {
        const tusHeaders = { 'tus-resumable': '1.0.0' };
        if (req.method === 'DELETE') return void res.writeHead(204, tusHeaders).end();
        if (path_.startsWith('/s3')) {
          return void res.writeHead(200, { etag: '"x"' }).end();
        }
        if (path_.startsWith('/g')) {
          if (req.method === 'POST') return void res.writeHead(200, { location: '/g/session' }).end();
          seen.completed = seen.received === SIZE;
          return void res.writeHead(seen.completed ? 200 : 308).end(seen.completed ? '{}' : '');
        }
        if (req.method === 'OPTIONS') return void res.writeHead(204, { ...tusHeaders, 'tus-version': '1.0.0' }).end();
        if (req.method === 'POST') return void res.writeHead(201, { ...tusHeaders, location: '/t/1' }).end();
        seen.completed = seen.received === SIZE;
        res.writeHead(204, { ...tusHeaders, 'upload-offset': String(seen.received) }).end();
      });
    });
    return { origin: server.origin, seen };
  }
  const protocols: Array<[string, (origin: string) => PartsProtocol<unknown>]> = [
    ['tus', (origin) => tus({ endpoint: `${origin}/t/` })],
    ['googleResumable', (origin) => googleResumable({ start: `${origin}/g/start` })],
    ['s3Parts', (origin) => s3Parts({ uploadId: 'u', key: 'k', partUrl: () => `${origin}/s3/part` })],
  ];
  for (const [protocolName, protocolOf] of protocols) {
    it.each(changes)(`${protocolName}, %s: ERR_SOURCE_CHANGED, the last bytes never sent`, async (_name, change) => {
      const file = randomFile(tempDir(), 'moving.bin', SIZE);
      // Its mtime set in the past, so that a rewrite moves it whatever the clock's tick (the check's clue).
      utimesSync(file.path, 1_000_000, 1_000_000);
      const { origin, seen } = await serverChanging(file.path, change);
      const error = await rejection(
        // Paced, so that the file changes while the piece is read: one piece of the whole file.
        uploadParts(file.path, {
          protocol: protocolOf(origin),
          partSize: SIZE,
          maxRate: 2 * MiB,
          store: false,
          retry: 0,
        }),
      );
      expect(error!.code).toBe('ERR_SOURCE_CHANGED');
      expect(seen.completed).toBe(false);
      expect(seen.received).toBeLessThan(SIZE);
    });
  }
});

describe('uploadParts: the edges of every buffer, over a real socket', () => {
  const sizes = [0, 1, 16383, 16384, 16385, 65535, 65536, 65537, MiB - 1, MiB, MiB + 1];
  it.each(sizes)('%i bytes in parts of 16 KiB and of 64 KiB, from a file and from bytes', async (size) => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const { data, sha256 } = bytesOf(size, size + 1);
    writeFileSync(join(dir, 'f'), data);
    for (const partSize of [16384, 65536]) {
      for (const source of [join(dir, 'f'), data]) {
        const key = `${partSize}-${typeof source}`;
        const seen: number[] = [];
        const result = await uploadParts(source, {
          protocol: s3ForFake(fake, key),
          partSize,
          concurrency: 3,
          store: false,
          onProgress: (n) => seen.push(n),
        });
        expect(fake.objects.get(key)?.sha256).toBe(sha256);
        expect(result.parts).toHaveLength(Math.max(1, Math.ceil(size / partSize)));
        expect(seen.at(-1)).toBe(size);
      }
    }
  });

  // A file's pieces read into blocks of 256 KiB that all pieces share: a block read into again while
  // a socket still held it would corrupt a part (the fake's ETag is the MD5 of what it received).
  it.each([MiB - 1, MiB, MiB + 1, 3 * 256 * KiB + 1])(
    "%i bytes from a file in parts at the shared blocks' edges (256 KiB - 1, + 0, + 1, 512 KiB + 1)",
    async (size) => {
      const fake = await startS3Fake({ minPartSize: 0 });
      // Read slowly: the client's writes wait in its socket's buffer while later blocks are read.
      fake.fault = () => ({ slowRead: true });
      const dir = tempDir();
      const { data, sha256 } = bytesOf(size, size + 3);
      writeFileSync(join(dir, 'f'), data);
      for (const partSize of [256 * KiB - 1, 256 * KiB, 256 * KiB + 1, 512 * KiB + 1]) {
        const key = `edge-${partSize}`;
        const result = await uploadParts(join(dir, 'f'), {
          protocol: s3ForFake(fake, key),
          partSize,
          concurrency: 3,
          store: false,
        });
        expect(fake.objects.get(key)?.sha256).toBe(sha256);
        expect(result.parts).toHaveLength(Math.ceil(size / partSize));
      }
    },
  );

  it('a small body split at every byte (parts of 1 byte)', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const { data, sha256 } = bytesOf(37);
    const result = await uploadParts(data, {
      protocol: s3ForFake(fake, 'tiny'),
      partSize: 1,
      concurrency: 5,
      store: false,
    });
    expect(result.parts).toHaveLength(37);
    expect(fake.objects.get('tiny')?.sha256).toBe(sha256);
  });
});

describe('uploadParts: stopping', () => {
  it('an abort signal: no part starts after it, those in flight stop, the upload is aborted, files closed', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'a.bin', 16 * MiB);
    const controller = new AbortController();
    let partsSeen = 0;
    fake.fault = ({ partNumber }) => {
      if (partNumber === undefined) return undefined;
      if (++partsSeen === 3) setImmediate(() => controller.abort(new Error('user stop')));
      return { hang: true };
    };
    const error = await rejection(
      uploadParts(file.path, {
        protocol: s3ForFake(fake, 'a.bin'),
        partSize: MiB,
        concurrency: 3,
        store: false,
        signal: controller.signal,
      }),
    );
    expect(error!.code).toBe('ERR_ABORTED');
    expect(error!.abandoned).toBe(true);
    expect(partsSeen).toBe(3);
    expect(fake.uploads.size).toBe(0);
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('an abort while the source is opened, before any request: ERR_ABORTED, nothing sent', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'o.bin', 2 * MiB);
    const controller = new AbortController();
    const call = rejection(
      uploadParts(file.path, {
        protocol: s3ForFake(fake, 'o.bin'),
        partSize: MiB,
        store: false,
        signal: controller.signal,
      }),
    );
    controller.abort(new Error('at once')); // uploadParts is awaiting the file's stat
    expect(await call).toMatchObject({ code: 'ERR_ABORTED', cause: { message: 'at once' } });
    expect(fake.log).toEqual([]);
  });

  it('50 calls sharing one signal put one listener on it, and all stop on its abort', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    fake.fault = ({ partNumber }) => (partNumber === undefined ? undefined : { hang: true });
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const calls = Array.from({ length: 50 }, (_, i) =>
        rejection(
          uploadParts(Buffer.alloc(10, i), {
            protocol: s3ForFake(fake, `k${i}`),
            partSize: 10,
            store: false,
            signal: controller.signal,
          }),
        ),
      );
      await vi.waitFor(() => expect(fake.log.filter((line) => line.startsWith('PUT')).length).toBe(50), {
        timeout: 10_000,
      });
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      controller.abort(new Error('all'));
      for (const error of await Promise.all(calls)) expect(error).toMatchObject({ code: 'ERR_ABORTED' });
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map(String)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('an onProgress that throws: ERR_CALLBACK_FAILED, abandoned', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'b.bin', 2 * MiB);
    const error = await rejection(
      uploadParts(file.path, {
        protocol: s3ForFake(fake, 'b.bin'),
        partSize: MiB,
        store: false,
        onProgress: (loaded) => {
          if (loaded > 100 * KiB) throw new Error('boom');
        },
      }),
    );
    expect(error!.code).toBe('ERR_CALLBACK_FAILED');
    expect(fake.uploads.size).toBe(0);
  });

  it('an async onProgress that rejects: ERR_CALLBACK_FAILED, abandoned, nothing unhandled', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'b2.bin', 2 * MiB);
    const error = await rejection(
      uploadParts(file.path, {
        protocol: s3ForFake(fake, 'b2.bin'),
        partSize: MiB,
        store: false,
        onProgress: async (loaded) => {
          if (loaded > 100 * KiB) throw new Error('boom');
        },
      }),
    );
    expect(error!.code).toBe('ERR_CALLBACK_FAILED');
    expect(fake.uploads.size).toBe(0);
  });

  it('a partUrl that throws, or gives no http URL: typed', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'c.bin', 100);
    const throwing = s3ForFake(fake, 'c.bin', {
      partUrl: () => {
        throw new Error('no signer');
      },
    });
    expect((await rejection(uploadParts(file.path, { protocol: throwing, store: false })))!.code).toBe(
      'ERR_CALLBACK_FAILED',
    );
    const ftp = s3ForFake(fake, 'c.bin', { partUrl: () => 'ftp://h/x' });
    expect((await rejection(uploadParts(file.path, { protocol: ftp, store: false })))!.code).toBe('ERR_INVALID_VALUE');
  });

  it('a server that never answers, with timeout: ERR_PIECE_FAILED caused by ERR_TIMEOUT', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'd.bin', 100);
    fake.fault = ({ partNumber }) => (partNumber ? { hang: true } : undefined);
    const error = await rejection(
      uploadParts(file.path, { protocol: s3ForFake(fake, 'd.bin'), store: false, timeout: 200, retry: 0 }),
    );
    expect(error!.code).toBe('ERR_PIECE_FAILED');
    expect((error!.cause as { code?: string }).code).toBe('ERR_TIMEOUT');
  });

  it('a session store that fails: ERR_STORE_FAILED', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'e.bin', 100);
    const store: SessionStore = {
      get: () => {
        throw new Error('disk gone');
      },
      set: () => {},
      delete: () => {},
    };
    expect((await rejection(uploadParts(file.path, { protocol: s3ForFake(fake, 'e.bin'), store })))!.code).toBe(
      'ERR_STORE_FAILED',
    );
  });

  describe("a function of the caller's or a store that never settles: an abort still ends the call", () => {
    const never = () => new Promise<never>(() => {});
    const quietStore: SessionStore = { get: () => undefined, set: () => {}, delete: () => {} };
    const cases: Array<[string, (fake: Awaited<ReturnType<typeof startS3Fake>>) => Record<string, unknown>]> = [
      ['partUrl', (fake) => ({ protocol: s3ForFake(fake, 'h.bin', { partUrl: never }), store: false })],
      ['the S3 start function', (fake) => ({ protocol: s3ForFake(fake, 'h.bin', { start: never }), store: false })],
      ['store.get', (fake) => ({ protocol: s3ForFake(fake, 'h.bin'), store: { ...quietStore, get: never } })],
      // A session that is not one is removed before the upload begins.
      [
        'store.delete',
        (fake) => ({ protocol: s3ForFake(fake, 'h.bin'), store: { get: () => ({}), set: () => {}, delete: never } }),
      ],
    ];
    it.each(cases)('%s: ERR_ABORTED soon after the abort', async (_name, optionsOf) => {
      const fake = await startS3Fake({ minPartSize: 0 });
      const file = randomFile(tempDir(), 'h.bin', 1000);
      const signal = AbortSignal.timeout(100);
      const call = rejection(uploadParts(file.path, { ...optionsOf(fake), signal } as never));
      const late = new Promise<string>((resolve) => setTimeout(() => resolve('still pending after 5 s'), 5000).unref());
      const error = await Promise.race([call, late]);
      expect((error as PartsError).code).toBe('ERR_ABORTED');
    });
  });

  it("a store.set that never settles: the upload is abandoned, and the call ends after the abandon step's 30 s", async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'i.bin', 1000);
    const store: SessionStore = { get: () => undefined, set: () => new Promise<never>(() => {}), delete: () => {} };
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let settled = false;
      const call = rejection(
        uploadParts(file.path, { protocol: s3ForFake(fake, 'i.bin'), store, signal: AbortSignal.timeout(50) }),
      ).finally(() => (settled = true));
      // Real turns until the upload is abandoned (the DELETE reached the server): the removal of
      // the session then waits for the write that never ends.
      const turn = () => new Promise((resolve) => setImmediate(resolve));
      for (let i = 0; i < 100_000 && !fake.log.some((line) => line.startsWith('DELETE')); i++) await turn();
      for (let i = 0; i < 100; i++) await turn();
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(30_000);
      const error = await call;
      expect(error!.code).toBe('ERR_ABORTED');
      expect(error!.abandoned).toBe(true);
      expect(fake.uploads.size).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('an abortUrl that never settles: the abandon step gives up after 30 s, and the call ends', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let asked!: () => void;
      const abortAsked = new Promise<void>((resolve) => (asked = resolve));
      const protocol = s3Parts({
        uploadId: 'u',
        key: 'k',
        partUrl: () => {
          throw new Error('no signer');
        },
        abortUrl: () => {
          asked();
          return new Promise<never>(() => {});
        },
      });
      const call = rejection(uploadParts(new Uint8Array(10), { protocol, store: false }));
      await abortAsked;
      await vi.advanceTimersByTimeAsync(29_000);
      let settled = false;
      void call.then(() => (settled = true));
      await vi.advanceTimersByTimeAsync(0);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1_000);
      const error = await call;
      expect(error!.code).toBe('ERR_CALLBACK_FAILED');
      expect(error!.abandoned).toBe(false);
      expect((error!.abandonError as PartsError).code).toBe('ERR_COMPLETE_FAILED');
      expect(error!.abandonError!.message).toMatch(/more than 30 s/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('progress never goes back by more than the pieces in flight, and ends at the size', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'f.bin', 6 * MiB);
    fake.fault = ({ partNumber, attempt }) =>
      attempt === 1 && partNumber! % 2 === 0 ? { resetAfter: 512 * KiB } : undefined;
    const seen: number[] = [];
    await uploadParts(file.path, {
      protocol: s3ForFake(fake, 'f.bin'),
      partSize: MiB,
      concurrency: 2,
      store: false,
      retry: { backoff: 5 },
      onProgress: (n) => seen.push(n),
    });
    for (let i = 1; i < seen.length; i++) expect(seen[i - 1]! - seen[i]!).toBeLessThanOrEqual(MiB);
    expect(seen.at(-1)).toBe(6 * MiB);
    expect(Math.max(...seen.slice(1).map((n, i) => n - seen[i]!))).toBeLessThanOrEqual(MiB);
  });
});

describe('uploadParts: many lanes on one signal', () => {
  it('concurrency 64, the part URLs and the waits slow: no MaxListenersExceededWarning, the upload whole', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'lanes.bin', 64 * 16 * KiB);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning.name);
    process.on('warning', onWarning);
    let first = true;
    // Every part's URL comes late, and each lane's first try is refused once (a retry waits on the signal).
    fake.fault = ({ partNumber, attempt }) =>
      partNumber !== undefined && attempt === 1 && first ? { status: 503 } : undefined;
    try {
      const protocol = s3ForFake(fake, 'lanes.bin', {
        partUrl: async (n, { uploadId }) => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          return fake.presign('PUT', 'lanes.bin', { partNumber: String(n), uploadId });
        },
      });
      await uploadParts(file.path, {
        protocol,
        partSize: 16 * KiB,
        concurrency: 64,
        store: false,
        retry: { limit: 2, backoff: 20 },
      });
      first = false;
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
    expect(fake.objects.get('lanes.bin')?.sha256).toBe(file.sha256);
  });
});
