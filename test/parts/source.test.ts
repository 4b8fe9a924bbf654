import { describe, expect, it, vi } from 'vitest';
import { PartsError, uploadParts } from '../../src/index.js';
import { tempDir } from '../helpers/files.js';
import { startS3Fake } from './fakes/s3.js';
import { MiB, randomFile, s3ForFake } from './helpers.js';

/** The path whose next stats fail with `failWith` (none when unset): a disk error cannot be made on demand. */
const failing: { path?: string; failWith?: string } = {};

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const stat = (async (path: string, options?: unknown) => {
    if (failing.path === path && failing.failWith !== undefined) {
      throw Object.assign(new Error(`${failing.failWith}: a failure of the test, stat '${path}'`), {
        code: failing.failWith,
      });
    }
    return fs.stat(path, options as never);
  }) as typeof fs.stat;
  return { ...fs, default: { ...fs, stat }, stat };
});

describe("uploadParts: a failed check of the file is the file's change only when it is gone", () => {
  const rows: Array<[errno: string, code: PartsError['code']]> = [
    ['EIO', 'ERR_PIECE_FAILED'],
    ['EMFILE', 'ERR_PIECE_FAILED'],
    ['EACCES', 'ERR_PIECE_FAILED'],
    ['ENOENT', 'ERR_SOURCE_CHANGED'],
    ['ENOTDIR', 'ERR_SOURCE_CHANGED'],
  ];
  it.each(rows)('%s at the second piece: %s', async (errno, code) => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'checked.bin', 2 * MiB);
    fake.fault = ({ partNumber, attempt }) => {
      if (partNumber === 1 && attempt === 1) Object.assign(failing, { path: file.path, failWith: errno });
      return undefined;
    };
    try {
      const error = await uploadParts(file.path, {
        protocol: s3ForFake(fake, 'checked.bin'),
        partSize: MiB,
        concurrency: 1,
        store: false,
      }).then(
        () => undefined,
        (e: unknown) => e as PartsError,
      );
      expect(error).toBeInstanceOf(PartsError);
      expect(error!.code).toBe(code);
      if (code === 'ERR_PIECE_FAILED') {
        expect((error!.cause as NodeJS.ErrnoException).code).toBe(errno);
        expect(error!.message).toContain(errno);
      }
      expect(error!.abandoned).toBe(true);
      expect(fake.objects.size).toBe(0);
    } finally {
      failing.failWith = undefined;
    }
  });
});

describe('uploadParts: bytes over a buffer that is transferred', () => {
  it('before the call: ERR_INVALID_VALUE, nothing started', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const buffer = new ArrayBuffer(1000);
    const bytes = new Uint8Array(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    const error = await uploadParts(bytes, { protocol: s3ForFake(fake, 'gone.bin'), store: false }).then(
      () => undefined,
      (e: unknown) => e as PartsError,
    );
    expect(error?.code).toBe('ERR_INVALID_VALUE');
    expect(error?.message).toContain('transferred (detached)');
    expect(fake.uploads.size).toBe(0);
  });

  it('while its pieces are sent: ERR_SOURCE_CHANGED, the upload abandoned, no object', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const buffer = new ArrayBuffer(3 * 64 * 1024);
    const bytes = new Uint8Array(buffer).fill(7);
    fake.fault = ({ partNumber, attempt }) => {
      if (partNumber === 1 && attempt === 1) structuredClone(buffer, { transfer: [buffer] });
      return undefined;
    };
    const error = await uploadParts(bytes, {
      protocol: s3ForFake(fake, 'moving.bin'),
      partSize: 64 * 1024,
      concurrency: 1,
      store: false,
    }).then(
      () => undefined,
      (e: unknown) => e as PartsError,
    );
    expect(error?.code).toBe('ERR_SOURCE_CHANGED');
    expect(error?.abandoned).toBe(true);
    expect(fake.objects.size).toBe(0);
  });
});
