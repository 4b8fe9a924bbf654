import { createHash } from 'node:crypto';
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MultipartParam, multipartEncode, upload, UploadError, type EncodedBody } from '../../src/index.js';
import { claimReadSize, LONE_UPLOAD_READ_BYTES } from '../../src/http/read-size.js';
import { recyclingChunks } from '../../src/multipart/encode.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { feedWrites } from '../helpers/memory-request.js';
import { json, startServer } from '../helpers/servers.js';

// A lone upload reads its files in 4 MiB blocks (fewer thread-pool round trips and writes per
// byte); uploads at once keep the body's own block size, and a block size the caller chose is kept.

const dir = tempDir();
const MiB = 1024 * 1024;
const largest = (writes: number[]) => Math.max(0, ...writes);

/** Sizes at the edges of the lone read size, and one past two of its blocks. */
const LONE_EDGES = [
  LONE_UPLOAD_READ_BYTES - 1,
  LONE_UPLOAD_READ_BYTES,
  LONE_UPLOAD_READ_BYTES + 1,
  2 * LONE_UPLOAD_READ_BYTES + 1,
];

const server = await startServer((req, res) => {
  const hash = createHash('sha256');
  let length = 0;
  req.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    length += chunk.length;
  });
  req.on('end', () => json(res, 200, { length, sha256: hash.digest('hex') }));
});

async function fileForm(size: number, seed: number, blockSize?: number): Promise<{ form: EncodedBody; data: Buffer }> {
  const data = bytes(size, seed);
  const path = writeFile(dir, `lone-${size}-${seed}.bin`, data);
  const form = await multipartEncode([['file', await MultipartParam.fromFile('file', path)]], {
    ...(blockSize === undefined ? {} : { blockSize }),
    syncReadLimit: 0,
  });
  return { form, data };
}

/** The file's bytes inside what arrived: the body must hold them unchanged. */
const holds = (received: Buffer, data: Buffer) => received.includes(data);

describe('claimReadSize', () => {
  it('gives the larger size to a body only while no other one streams, and counts each release once', () => {
    const first = claimReadSize();
    const second = claimReadSize();
    expect([first.readSize, second.readSize]).toEqual([LONE_UPLOAD_READ_BYTES, undefined]);
    first.release();
    first.release(); // twice: still one body streaming
    const third = claimReadSize();
    expect(third.readSize).toBeUndefined();
    second.release();
    third.release();
    const alone = claimReadSize();
    expect(alone.readSize).toBe(LONE_UPLOAD_READ_BYTES);
    alone.release();
  });
});

describe('recyclingChunks with a read size', () => {
  it.each([[undefined], [256 * 1024]])(
    'reads in the asked size only with the default block size (%s)',
    async (chosen) => {
      const { form, data } = await fileForm(LONE_UPLOAD_READ_BYTES + 1, 3, chosen);
      const { chunks, recycle } = recyclingChunks(form.body, { readSize: LONE_UPLOAD_READ_BYTES });
      const sizes: number[] = [];
      const copies: Buffer[] = [];
      for await (const chunk of chunks) {
        sizes.push(chunk.length);
        copies.push(Buffer.from(chunk));
        recycle(chunk);
      }
      expect(holds(Buffer.concat(copies), data)).toBe(true);
      expect(largest(sizes)).toBe(chosen ?? LONE_UPLOAD_READ_BYTES);
    },
  );
});

describe('upload(): alone, at once, after a failure', () => {
  for (const size of LONE_EDGES) {
    it(`a lone body of a ${size}-byte file goes out in blocks of at most 4 MiB, intact`, async () => {
      const { form, data } = await fileForm(size, 5);
      const { received, writes } = await feedWrites(form, 65536, false);
      expect(holds(received, data)).toBe(true);
      expect(largest(writes)).toBe(Math.min(size, LONE_UPLOAD_READ_BYTES));
      // With a progress listener, a socket that lags takes the blocks in 64 KiB slices: intact too.
      const sliced = await feedWrites(form, 65536, true);
      expect(holds(sliced.received, data)).toBe(true);
    });
  }

  it('two bodies at once: the second keeps the 1 MiB default; both arrive intact', async () => {
    const [a, b] = await Promise.all([fileForm(5 * MiB + 1, 7), fileForm(5 * MiB + 1, 8)]);
    // The first call claims before the second starts: it streams alone at that moment.
    const [first, second] = await Promise.all([feedWrites(a.form, 65536, false), feedWrites(b.form, 65536, false)]);
    expect(holds(first.received, a.data) && holds(second.received, b.data)).toBe(true);
    expect([largest(first.writes), largest(second.writes)]).toEqual([LONE_UPLOAD_READ_BYTES, MiB]);
  });

  it('a chosen block size is kept by a lone upload', async () => {
    const { form, data } = await fileForm(LONE_UPLOAD_READ_BYTES + 1, 9, 256 * 1024);
    const { received, writes } = await feedWrites(form, 65536, false);
    expect(holds(received, data)).toBe(true);
    expect(largest(writes)).toBe(256 * 1024);
  });

  it('over a real socket, alone and three at once, every edge size arrives whole', async () => {
    for (const size of LONE_EDGES) {
      const { form, data } = await fileForm(size, 11);
      const answer = (await (await upload(server.url, form)).json()) as { length: number; sha256: string };
      expect(answer.length).toBe(form.contentLength);
      const together = await Promise.all([0, 1, 2].map(() => upload(server.url, form).then((res) => res.json())));
      expect(together).toEqual([answer, answer, answer]);
      expect(data.length).toBe(size);
    }
  });

  it('a body that fails (its file shrank) releases its claim: the next lone body reads 4 MiB again', async () => {
    const { form } = await fileForm(2 * LONE_UPLOAD_READ_BYTES + 1, 13);
    truncateSync(join(dir, `lone-${2 * LONE_UPLOAD_READ_BYTES + 1}-13.bin`), LONE_UPLOAD_READ_BYTES);
    const failure = await upload(server.url, form).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(UploadError);
    const next = await fileForm(LONE_UPLOAD_READ_BYTES + 1, 15);
    const { received, writes } = await feedWrites(next.form, 65536, false);
    expect(holds(received, next.data)).toBe(true);
    expect(largest(writes)).toBe(LONE_UPLOAD_READ_BYTES);
  });
});
