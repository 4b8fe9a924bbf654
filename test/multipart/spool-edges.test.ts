import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { rawBody, type EncodedBody } from '../../src/index.js';
import { chunksOf, EDGE_SIZES, everySplit, streamOf } from '../helpers/buffer-edges.js';
import { bytes, tempDir } from '../helpers/files.js';
import { collect } from '../helpers/parse.js';

// Spool at the edges of every buffer it meets: its 1 MiB write blocks and memoryLimit, Node's 16 KiB
// and 64 KiB stream buffers. Bodies and chunks of each edge size ± 1, kept in memory and written to a
// file, fed directly (an async iterable, a Readable, a PassThrough whose writer waits) and over a real
// socket. Each copy must hold exactly the stream's bytes, twice over (it is replayable), and go away.

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function check(body: EncodedBody, data: Buffer, dir: string, inFile: boolean): Promise<void> {
  expect(body.contentLength).toBe(data.length);
  expect(readdirSync(dir)).toHaveLength(inFile ? 1 : 0);
  const once = await collect(body.body);
  expect(sha256(once)).toBe(sha256(data));
  expect(sha256(await collect(body.body))).toBe(sha256(data));
  await body.dispose();
  expect(readdirSync(dir)).toEqual([]);
}

/** Where the stream goes: in memory (memoryLimit above it), or to a file from its first byte or past 64 KiB. */
const places: Array<[string, (size: number) => number, (size: number) => boolean]> = [
  ['in memory', (size) => size, () => false],
  ['to a file at once', () => 0, (size) => size > 0],
  ['to a file past 65536 bytes', () => 65_536, (size) => size > 65_536],
];

describe('fed directly: every edge size, in every chunking, in memory and in a file', () => {
  for (const size of EDGE_SIZES) {
    it(`${size} bytes`, async () => {
      const data = bytes(size, size + 3);
      const chunkings = [size || 1, 1, 11, 16383, 16384, 16385, 65536, 1048577].filter(
        (chunk) => (chunk > 11 || size <= 16_385) && (chunk <= size || chunk === 1048577), // no pulls by the million
      );
      for (const [, memoryLimit, inFile] of places) {
        for (const chunk of chunkings) {
          const dir = tempDir();
          const spool = { dir, memoryLimit: memoryLimit(size) };
          await check(await rawBody(streamOf(chunksOf(data, chunk)), { spool }), data, dir, inFile(size));
          if (chunk < 16383) continue; // a Readable too, with the size declared, for chunks at the buffers' edges
          const readable = Readable.from(chunksOf(data, chunk));
          await check(await rawBody(readable, { spool, size }), data, dir, inFile(size));
        }
      }
    });
  }

  it('a small stream cut in two at every position', async () => {
    const data = bytes(64, 5);
    for (const chunks of everySplit(data)) {
      for (const [, memoryLimit, inFile] of places) {
        const dir = tempDir();
        const spool = { dir, memoryLimit: memoryLimit(data.length) };
        await check(await rawBody(streamOf(chunks), { spool }), data, dir, inFile(data.length));
      }
    }
  });

  it('chunks the caller reuses after each pull are copied, not kept', async () => {
    const data = bytes(3 * 1024 * 1024 + 7, 9);
    for (const chunk of [11, 16385, 65537, 1048577]) {
      const dir = tempDir();
      const shared = Buffer.alloc(chunk);
      const reusing = (async function* () {
        for (let at = 0; at < data.length; at += chunk) {
          const piece = data.subarray(at, at + chunk);
          piece.copy(shared);
          yield shared.subarray(0, piece.length);
          shared.fill(0); // the caller writes over its buffer as soon as the chunk was taken
        }
      })();
      await check(await rawBody(reusing, { spool: { dir } }), data, dir, true);
    }
  });

  it('a first chunk larger than the high-water mark, from a writer that waits for its callback', async () => {
    for (const size of [16385, 65537, 1048577]) {
      for (const highWaterMark of [16384, 65536]) {
        const dir = tempDir();
        const data = bytes(size, 2);
        const pipe = new PassThrough({ highWaterMark });
        // the whole body in one write, the end only once that write was taken: stalls if spool reads nothing
        pipe.write(data, () => pipe.end());
        await check(await rawBody(pipe, { spool: { dir } }), data, dir, size > 1024 * 1024);
      }
    }
  });
});

describe('over a real socket: a socket stream of every edge size, sent in edge-sized writes', () => {
  for (const size of EDGE_SIZES) {
    it(`${size} bytes`, async () => {
      const data = bytes(size, 17);
      for (const write of [size || 1, 16384, 65537]) {
        const server = net.createServer(async (socket) => {
          socket.on('error', () => {});
          for (const chunk of chunksOf(data, write)) {
            if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
          }
          socket.end();
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        try {
          for (const [, memoryLimit, inFile] of places) {
            const dir = tempDir();
            const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
            const body = await rawBody(socket, { spool: { dir, memoryLimit: memoryLimit(size) } });
            await check(body, data, dir, inFile(size));
          }
        } finally {
          server.close();
        }
      }
    });
  }
});
