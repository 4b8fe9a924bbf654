import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PartsError, s3Parts, uploadParts } from '../../src/index.js';
import { openFilesUnder, tempDir } from '../helpers/files.js';
import { startServer } from '../helpers/servers.js';
import { startS3Fake } from './fakes/s3.js';
import { bytesOf, KiB, MiB, randomFile, s3ForFake } from './helpers.js';

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as PartsError,
  );

describe('s3Parts fault table (against the S3 fake)', () => {
  it('a reset mid-part and a 503 with Retry-After: each part retried on its own, byte for byte', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'a.bin', 6 * MiB);
    fake.fault = ({ partNumber, attempt }) =>
      attempt > 1
        ? undefined
        : partNumber === 2
          ? { resetAfter: 300 * KiB }
          : partNumber === 4
            ? { status: 503, retryAfter: '0' }
            : undefined;
    const result = await uploadParts(file.path, {
      protocol: s3ForFake(fake, 'a.bin'),
      partSize: MiB,
      store: false,
      retry: { backoff: 10 },
    });
    expect(result.completed).toBe(true);
    expect(fake.objects.get('a.bin')?.sha256).toBe(file.sha256);
    expect(fake.uploads.size).toBe(0);
  });

  it("a part's 200 with its ETag whose body is cut short: the part is stored, the upload completes", async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'cut.bin', 3 * MiB);
    fake.fault = ({ partNumber, attempt }) => (partNumber === 2 && attempt === 1 ? { cutPartAnswer: true } : undefined);
    const result = await uploadParts(file.path, {
      protocol: s3ForFake(fake, 'cut.bin'),
      partSize: MiB,
      store: false,
      retry: { limit: 0 },
    });
    expect(result.completed).toBe(true);
    expect(fake.objects.get('cut.bin')?.sha256).toBe(file.sha256);
  });

  it('a 503 storm: refused for good after the retries; no part starts after, in-flight ones stop, the upload is aborted', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'b.bin', 20 * MiB);
    fake.fault = ({ partNumber }) =>
      partNumber === 3
        ? { status: 503, code: 'SlowDown' }
        : partNumber !== undefined && partNumber > 3
          ? { hang: true }
          : undefined;
    const error = await rejection(
      uploadParts(file.path, {
        protocol: s3ForFake(fake, 'b.bin'),
        partSize: MiB,
        concurrency: 3,
        store: false,
        retry: { limit: 2, backoff: 10 },
      }),
    );
    expect(error).toBeInstanceOf(PartsError);
    expect(error!.code).toBe('ERR_PIECE_FAILED');
    expect(error!.status).toBe(503);
    expect(error!.abandoned).toBe(true);
    expect(error!.stored.map((p) => p.partNumber)).toEqual([1, 2]);
    // Parts 4 and 5 were in flight (held by the server): stopped, not sent again; none after them started.
    const puts = fake.log.filter((l) => l.startsWith('PUT'));
    expect(puts.filter((l) => l.includes('partNumber')).length).toBeLessThanOrEqual(2 + 3 + 2);
    expect(fake.uploads.size).toBe(0);
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('a server that loses a stored part: completing finds it missing, it is sent again, then completed', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'c.bin', 3 * MiB);
    let lost = false;
    fake.fault = ({ method, query }) => {
      if (method === 'POST' && query.has('uploadId') && !lost) {
        lost = true;
        fake.uploads.get(query.get('uploadId')!)!.parts.delete(2);
      }
      return undefined;
    };
    const result = await uploadParts(file.path, { protocol: s3ForFake(fake, 'c.bin'), partSize: MiB, store: false });
    expect(result.completed).toBe(true);
    expect(fake.objects.get('c.bin')?.sha256).toBe(file.sha256);
    expect(fake.log.filter((l) => l.startsWith('POST c.bin?uploadId'))).toHaveLength(2);
  });

  it('an upload that expired (NoSuchUpload): ERR_SESSION_EXPIRED', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'd.bin', 2 * MiB);
    fake.fault = ({ partNumber }) => (partNumber === 2 ? { status: 404, code: 'NoSuchUpload' } : undefined);
    const error = await rejection(
      uploadParts(file.path, { protocol: s3ForFake(fake, 'd.bin'), partSize: MiB, concurrency: 1, store: false }),
    );
    expect(error!.code).toBe('ERR_SESSION_EXPIRED');
    expect(error!.stored).toHaveLength(1);
  });

  it('a complete that succeeds but answers 500, its retry NoSuchUpload: ERR_COMPLETE_UNKNOWN, nothing abandoned', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'u.bin', 2 * MiB);
    let completes = 0;
    fake.fault = ({ method, query }) =>
      method === 'POST' && query.has('uploadId') && ++completes === 1 ? { answerLost: 500 } : undefined;
    const error = await rejection(
      uploadParts(file.path, {
        protocol: s3ForFake(fake, 'u.bin'),
        partSize: MiB,
        store: false,
        retry: { limit: 2, backoff: 1 },
      }),
    );
    expect(error!.code).toBe('ERR_COMPLETE_UNKNOWN');
    expect(error!.status).toBe(404);
    expect(error!.abandoned).toBe(false);
    expect(fake.objects.get('u.bin')?.sha256).toBe(file.sha256);
  });

  it.each([
    ['reset', { limit: 0 }, undefined],
    ['cut', { limit: 2, backoff: 1 }, undefined],
    ['hang', { limit: 2, backoff: 1 }, 300],
  ] as const)(
    'a complete that succeeds, its answer lost (%s): ERR_COMPLETE_UNKNOWN, nothing aborted',
    async (lost, retry, timeout) => {
      const fake = await startS3Fake({ minPartSize: 0 });
      const file = randomFile(tempDir(), 'l.bin', 2 * MiB);
      const aborts: string[] = [];
      fake.fault = ({ method, query }) => {
        if (method === 'DELETE') aborts.push(method);
        return method === 'POST' && query.has('uploadId') ? { answerLost: lost } : undefined;
      };
      const protocol = s3ForFake(fake, 'l.bin');
      const error = await rejection(
        uploadParts(file.path, {
          protocol,
          partSize: MiB,
          store: false,
          retry,
          ...(timeout === undefined ? {} : { timeout }),
        }),
      );
      expect(error!.code, error!.message).toBe('ERR_COMPLETE_UNKNOWN');
      expect(error!.abandoned).toBe(false);
      expect(aborts).toEqual([]);
      expect(fake.objects.get('l.bin')?.sha256).toBe(file.sha256);
    },
  );

  it('an abort while a complete is unanswered: ERR_ABORTED, and the upload S3 may be completing is not aborted', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'w.bin', 2 * MiB);
    const controller = new AbortController();
    const aborts: string[] = [];
    fake.fault = ({ method, query }) => {
      if (method === 'DELETE') aborts.push(method);
      if (!(method === 'POST' && query.has('uploadId'))) return undefined;
      setTimeout(() => controller.abort(), 20);
      return { answerLost: 'hang' };
    };
    const error = await rejection(
      uploadParts(file.path, {
        protocol: s3ForFake(fake, 'w.bin'),
        partSize: MiB,
        store: false,
        signal: controller.signal,
      }),
    );
    expect(error!.code).toBe('ERR_ABORTED');
    expect(error!.abandoned).toBe(false);
    expect(error!.abandonError?.message).toContain('not aborted');
    expect(aborts).toEqual([]);
    expect(fake.objects.get('w.bin')?.sha256).toBe(file.sha256);
  });

  it.each([500, 502, 504])(
    'a complete answered %i past the retries: ERR_COMPLETE_UNKNOWN, nothing aborted',
    async (status) => {
      const fake = await startS3Fake({ minPartSize: 0 });
      const file = randomFile(tempDir(), 's.bin', MiB);
      const seen: string[] = [];
      fake.fault = ({ method, query }) => {
        seen.push(method);
        return method === 'POST' && query.has('uploadId') ? { status, code: 'InternalError' } : undefined;
      };
      const error = await rejection(
        uploadParts(file.path, { protocol: s3ForFake(fake, 's.bin'), store: false, retry: { limit: 1, backoff: 1 } }),
      );
      expect(error!.code).toBe('ERR_COMPLETE_UNKNOWN');
      expect(error!.status).toBe(status);
      expect(error!.abandoned).toBe(false);
      expect(seen.filter((method) => method === 'POST')).toHaveLength(3); // start, complete, its retry
      expect(seen).not.toContain('DELETE');
    },
  );

  it('500s and 200s with a transient <Error> together: the retries counted once, the attempts numbered on', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'x.bin', MiB);
    let completes = 0;
    fake.fault = ({ method, query }) => {
      if (!(method === 'POST' && query.has('uploadId'))) return undefined;
      completes++;
      return completes % 2 === 1 ? { status: 500, code: 'InternalError' } : { status: 200, code: 'InternalError' };
    };
    const attempts: Array<[number, number | string]> = [];
    const error = await rejection(
      uploadParts(file.path, {
        protocol: s3ForFake(fake, 'x.bin'),
        store: false,
        retry: { limit: 3, backoff: 1, onRetry: ({ attempt, reason }) => void attempts.push([attempt, reason]) },
      }),
    );
    expect(completes).toBe(4);
    expect(attempts.map(([attempt]) => attempt)).toEqual([1, 2, 3]);
    expect(error!.code).toBe('ERR_COMPLETE_FAILED');
  });

  it.each([
    ['an empty body', ''],
    ['an HTML page', '<html><body>OK</body></html>'],
  ])('a complete answered 200 with %s: ERR_COMPLETE_UNKNOWN, nothing aborted', async (_what, body) => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'h.bin', MiB);
    const completer = await startServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/html' }).end(body));
    });
    const aborts: string[] = [];
    fake.fault = ({ method }) => (method === 'DELETE' && aborts.push(method), undefined);
    const error = await rejection(
      uploadParts(file.path, {
        protocol: s3ForFake(fake, 'h.bin', { completeUrl: () => `${completer.origin}/c` }),
        store: false,
      }),
    );
    expect(error!.code).toBe('ERR_COMPLETE_UNKNOWN');
    expect(error!.abandoned).toBe(false);
    expect(aborts).toEqual([]);
    await completer.close();
  });

  it('a complete refused before it is sent (connection refused): ERR_COMPLETE_FAILED, the upload aborted', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'r.bin', 2 * MiB);
    const closed = await startServer((_req, res) => res.end());
    const nowhere = closed.origin;
    await closed.close();
    const protocol = s3ForFake(fake, 'r.bin', { completeUrl: () => `${nowhere}/bucket/r.bin` });
    const error = await rejection(
      uploadParts(file.path, { protocol, partSize: MiB, store: false, retry: { limit: 1, backoff: 1 } }),
    );
    expect(error!.code).toBe('ERR_COMPLETE_FAILED');
    expect(error!.abandoned).toBe(true);
    expect(fake.uploads.size).toBe(0);
  });

  it('a complete answered 200 with a transient <Error>: retried, then completed', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'i.bin', 2 * MiB);
    let completes = 0;
    fake.fault = ({ method, query }) =>
      method === 'POST' && query.has('uploadId') && ++completes <= 2
        ? { status: 200, code: 'InternalError' }
        : undefined;
    const retries: Array<[number, number | string]> = [];
    const result = await uploadParts(file.path, {
      protocol: s3ForFake(fake, 'i.bin'),
      partSize: MiB,
      store: false,
      retry: { limit: 2, backoff: 1, onRetry: ({ attempt, reason }) => void retries.push([attempt, reason]) },
    });
    expect(result.completed).toBe(true);
    expect(retries).toEqual([
      [1, 'InternalError'],
      [2, 'InternalError'],
    ]);
    expect(fake.objects.get('i.bin')?.sha256).toBe(file.sha256);
  });

  it('a complete answered 200 with <Error> past the retries, or with one S3 does not retry: ERR_COMPLETE_FAILED, aborted', async () => {
    for (const [code, limit] of [
      ['InternalError', 1],
      ['InvalidPartOrder', 3],
    ] as const) {
      const fake = await startS3Fake({ minPartSize: 0 });
      const file = randomFile(tempDir(), 'e.bin', MiB);
      let completes = 0;
      fake.fault = ({ method, query }) =>
        method === 'POST' && query.has('uploadId') ? (completes++, { status: 200, code }) : undefined;
      const error = await rejection(
        uploadParts(file.path, {
          protocol: s3ForFake(fake, 'e.bin'),
          store: false,
          retry: { limit, backoff: 1 },
        }),
      );
      expect(error!.code).toBe('ERR_COMPLETE_FAILED');
      expect(error!.message).toContain(code);
      expect(error!.abandoned).toBe(true);
      expect(completes).toBe(code === 'InternalError' ? limit + 1 : 1);
    }
  });

  it('an async retry.onRetry that rejects while a repeatable request is retried: typed, nothing unhandled', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'r.bin', MiB);
    let completes = 0;
    fake.fault = ({ method, query }) =>
      method === 'POST' && query.has('uploadId') && ++completes === 1 ? { status: 503 } : undefined;
    const error = await rejection(
      uploadParts(file.path, {
        protocol: s3ForFake(fake, 'r.bin'),
        partSize: MiB,
        store: false,
        retry: { limit: 2, backoff: 1, onRetry: async () => Promise.reject(new Error('later')) },
      }),
    );
    expect(error).toBeInstanceOf(PartsError);
    expect(error!.cause).toMatchObject({ code: 'ERR_CALLBACK_FAILED' });
  });

  it('an ETag that is not the MD5 of the bytes sent: ERR_CHECKSUM_MISMATCH, nothing completed', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'e.bin', 2 * MiB);
    fake.fault = ({ partNumber }) => (partNumber === 2 ? { etag: '"0123456789abcdef0123456789abcdef"' } : undefined);
    const error = await rejection(
      uploadParts(file.path, { protocol: s3ForFake(fake, 'e.bin'), partSize: MiB, store: false }),
    );
    expect(error!.code).toBe('ERR_CHECKSUM_MISMATCH');
    expect(fake.objects.size).toBe(0);
    expect(fake.uploads.size).toBe(0);
  });

  it.each(['md5', 'crc32', 'sha256'] as const)(
    'checksum %s: computed before each part, given to partUrl, checked by the server',
    async (checksum) => {
      const fake = await startS3Fake({ minPartSize: 0 });
      const file = randomFile(tempDir(), 'f.bin', 2 * MiB + 1);
      const given: Array<string | undefined> = [];
      const protocol = s3ForFake(fake, 'f.bin', {
        checksum,
        partUrl: (n, { uploadId, checksum: value }) => {
          given.push(value);
          return fake.presign('PUT', 'f.bin', { partNumber: String(n), uploadId });
        },
      });
      const result = await uploadParts(file.path, { protocol, partSize: MiB, store: false });
      expect(given).toHaveLength(3);
      expect(given.every((value) => typeof value === 'string' && value.length > 0)).toBe(true);
      expect(fake.objects.get('f.bin')?.sha256).toBe(file.sha256);
      if (checksum !== 'md5')
        expect(result.parts[0]).toHaveProperty(checksum === 'crc32' ? 'ChecksumCRC32' : 'ChecksumSHA256');
    },
  );

  it('without completeUrl: the parts come back for the caller to complete, the upload is left open', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const { data, sha256 } = bytesOf(MiB + 5);
    let uploadId = '';
    const result = await uploadParts(data, {
      protocol: s3Parts({
        start: () => {
          uploadId = 'given';
          fake.uploads.set('given', { key: 'g.bin', parts: new Map(), attempts: new Map() });
          return 'given';
        },
        partUrl: (n, info) => fake.presign('PUT', 'g.bin', { partNumber: String(n), uploadId: info.uploadId }),
      }),
      partSize: MiB,
    });
    expect(uploadId).toBe('given');
    expect(result).toMatchObject({ uploadId: 'given', completed: false, size: MiB + 5 });
    expect(result.parts).toEqual([
      { PartNumber: 1, ETag: fake.uploads.get('given')!.parts.get(1)!.etag },
      { PartNumber: 2, ETag: fake.uploads.get('given')!.parts.get(2)!.etag },
    ]);
    expect(sha256).toHaveLength(64);
  });

  it('resumes with a ListParts answer that spans several pages', async () => {
    const fake = await startS3Fake({ minPartSize: 0, pageSize: 2 });
    const dir = tempDir();
    const file = randomFile(dir, 'h.bin', 7 * 64 * KiB);
    const store = join(dir, 'sessions');
    const controller = new AbortController();
    fake.fault = ({ partNumber }) => (partNumber === 6 ? (controller.abort(), { hang: true }) : undefined);
    const error = await rejection(
      uploadParts(file.path, {
        protocol: s3ForFake(fake, 'h.bin'),
        partSize: 64 * KiB,
        concurrency: 1,
        store,
        keepSession: true,
        signal: controller.signal,
      }),
    );
    expect(error!.code).toBe('ERR_ABORTED');
    expect(error!.abandoned).toBe(false);
    fake.fault = () => undefined;
    const result = await uploadParts(file.path, {
      protocol: s3ForFake(fake, 'h.bin'),
      partSize: 64 * KiB,
      concurrency: 1,
      store,
    });
    expect(result.resumedBytes).toBe(5 * 64 * KiB);
    expect(fake.objects.get('h.bin')?.sha256).toBe(file.sha256);
    expect(fake.log.filter((l) => l.startsWith('GET h.bin?uploadId')).length).toBeGreaterThanOrEqual(3);
  });

  it('a listing URL that ignores part-number-marker (the same page again): ERR_UNEXPECTED_RESPONSE at the second page, not 11', async () => {
    const fake = await startS3Fake({ minPartSize: 0, pageSize: 2 });
    const dir = tempDir();
    const file = randomFile(dir, 'm.bin', 7 * 64 * KiB);
    const store = join(dir, 'sessions');
    const controller = new AbortController();
    fake.fault = ({ partNumber }) => (partNumber === 6 ? (controller.abort(), { hang: true }) : undefined);
    const options = { partSize: 64 * KiB, concurrency: 1, store, keepSession: true };
    const stopped = await rejection(
      uploadParts(file.path, { ...options, protocol: s3ForFake(fake, 'm.bin'), signal: controller.signal }),
    );
    expect(stopped!.code).toBe('ERR_ABORTED');
    fake.fault = () => undefined;
    let lists = 0;
    const firstPageOnly = s3ForFake(fake, 'm.bin', {
      listUrl: (uploadId) => (lists++, fake.presign('GET', 'm.bin', { uploadId })),
    });
    const error = await rejection(uploadParts(file.path, { ...options, protocol: firstPageOnly }));
    expect(error!.code).toBe('ERR_UNEXPECTED_RESPONSE');
    expect(error!.message).toContain('does not follow part-number-marker');
    expect(lists).toBe(2);
  });

  it.each([
    ['a listUrl of yours that throws (a backend down)', 'throws', 'ERR_CALLBACK_FAILED', true],
    ['ListParts answered 503', 503, 'ERR_START_FAILED', true],
    ['ListParts answered 403 (credentials to renew)', 403, 'ERR_START_FAILED', true],
    ['ListParts answered 400', 400, 'ERR_START_FAILED', false],
  ] as const)('resuming, %s: kept or abandoned as it may pass', async (_what, fault, code, kept) => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'r.bin', 4 * 64 * KiB);
    const store = join(dir, 'sessions');
    const controller = new AbortController();
    fake.fault = ({ partNumber }) => (partNumber === 3 ? (controller.abort(), { hang: true }) : undefined);
    const options = { partSize: 64 * KiB, concurrency: 1, store };
    await rejection(
      uploadParts(file.path, {
        ...options,
        protocol: s3ForFake(fake, 'r.bin'),
        keepSession: true,
        signal: controller.signal,
      }),
    );
    const deletes: string[] = [];
    fake.fault = ({ method }) => {
      if (method === 'DELETE') deletes.push(method);
      return method === 'GET' && fault !== 'throws' ? { status: fault, code: 'Refused' } : undefined;
    };
    const protocol = s3ForFake(fake, 'r.bin', {
      ...(fault === 'throws'
        ? {
            listUrl: () => {
              throw new Error('the backend is down');
            },
          }
        : {}),
    });
    const error = await rejection(uploadParts(file.path, { ...options, protocol, retry: { limit: 0 } }));
    expect(error!.code).toBe(code);
    expect(error!.abandoned).toBe(!kept);
    expect(deletes).toHaveLength(kept ? 0 : 1);
    if (!kept) return;
    fake.fault = () => undefined;
    const result = await uploadParts(file.path, { ...options, protocol: s3ForFake(fake, 'r.bin') });
    expect(result.resumedBytes).toBe(2 * 64 * KiB);
    expect(fake.objects.get('r.bin')?.sha256).toBe(file.sha256);
  });

  it('resumes with ListParts ETags without their quotes: the same parts, not sent again', async () => {
    const fake = await startS3Fake({ minPartSize: 0, bareListETags: true });
    const dir = tempDir();
    const file = randomFile(dir, 'q.bin', 4 * 64 * KiB);
    const store = join(dir, 'sessions');
    const options = { protocol: s3ForFake(fake, 'q.bin'), partSize: 64 * KiB, concurrency: 1, store };
    fake.fault = ({ partNumber }) => (partNumber === 3 ? { status: 400, code: 'InvalidArgument' } : undefined);
    await rejection(uploadParts(file.path, { ...options, keepSession: true }));
    fake.fault = () => undefined;
    const result = await uploadParts(file.path, options);
    expect(result.resumedBytes).toBe(2 * 64 * KiB);
    expect(fake.objects.get('q.bin')?.sha256).toBe(file.sha256);
    expect(fake.log.filter((l) => l.startsWith('PUT q.bin'))).toHaveLength(5);
  });
});
