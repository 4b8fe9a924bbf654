import { describe, expect, it } from 'vitest';
import { PartsError, uploadParts } from '../../src/index.js';
import { openFilesUnder, tempDir } from '../helpers/files.js';
import { startS3Fake } from './fakes/s3.js';
import { KiB, MiB, randomFile, s3ForFake } from './helpers.js';

describe('uploadParts with s3Parts', () => {
  it('stores a file byte for byte, parts in parallel, each ETag checked', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'a.bin', 3 * MiB + 5 * KiB);
    const seen: number[] = [];
    let mostOpen = 0;
    const result = await uploadParts(file.path, {
      protocol: s3ForFake(fake, 'a.bin', { checksum: 'md5' }),
      partSize: MiB,
      concurrency: 3,
      store: false,
      onProgress: (loaded) => {
        seen.push(loaded);
        mostOpen = Math.max(mostOpen, openFilesUnder(dir).length);
      },
    });
    // At most one file open per piece in flight, the checksum's read included; none after.
    expect(mostOpen).toBeGreaterThan(0);
    expect(mostOpen).toBeLessThanOrEqual(3);
    expect(openFilesUnder(dir)).toEqual([]);
    expect(result.completed).toBe(true);
    expect(result.parts.map((p) => p.PartNumber)).toEqual([1, 2, 3, 4]);
    expect(fake.objects.get('a.bin')?.sha256).toBe(file.sha256);
    expect(seen.at(-1)).toBe(3 * MiB + 5 * KiB);
    expect(fake.maxParallel).toBeLessThanOrEqual(3);
  });

  it('rejects a part refused for good, aborts the upload, lists what was stored', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'b.bin', 8 * MiB);
    fake.fault = ({ partNumber }) => (partNumber === 3 ? { status: 403, code: 'AccessDenied' } : undefined);
    const error = await uploadParts(file.path, {
      protocol: s3ForFake(fake, 'b.bin'),
      partSize: MiB,
      concurrency: 2,
      store: false,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartsError);
    expect((error as PartsError).code).toBe('ERR_PIECE_FAILED');
    expect((error as PartsError).abandoned).toBe(true);
    expect(fake.uploads.size).toBe(0);
    // The part's presigned URL is named without its signature: a message ends up in a log.
    const { message, url, stack } = error as PartsError;
    expect(url).toMatch(/partNumber=3&.*X-Amz-Signature=\*\*\*$/);
    expect(`${message} ${url} ${stack}`).not.toMatch(/X-Amz-Signature=(?!\*\*\*)/);
  });
});
