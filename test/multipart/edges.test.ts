import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { multipartEncode, MultipartParam, type EncodeOptions } from '../../src/index.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';

// The encoder's stream at the edges of every buffer it has: the coalescing batch (64 KiB), the
// read block (blockSize, default 1 MiB), the small-file limit (syncReadLimit, 64 KiB) and a
// stream's high-water mark (16 KiB). Every body is compared byte for byte with one built here.

const KiB = 1024;
const MiB = 1024 * KiB;
const EDGES = [0, 1, 16 * KiB - 1, 16 * KiB, 16 * KiB + 1, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, MiB - 1, MiB, MiB + 1];
const BLOCKS = [1, ...EDGES.filter((size) => size >= 16 * KiB - 1)];
const B = 'edge-boundary';
const dir = tempDir();
const data = bytes(MiB + 1, 7);
const files = new Map(EDGES.map((size) => [size, writeFile(dir, `edge-${size}.bin`, data.subarray(0, size))]));

/** The body as it must be, built from the wire format alone. */
function expected(size: number): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="f"; filename="edge.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    data.subarray(0, size),
    Buffer.from(`\r\n--${B}--\r\n`),
  ]);
}

type Kind = 'file' | 'file read whole' | 'Blob' | 'bytes' | 'stream';
const KINDS: Kind[] = ['file', 'file read whole', 'Blob', 'bytes', 'stream'];

/** The part of `size` bytes as each kind of source gives it; a stream in chunks of `chunk` bytes. */
async function param(kind: Kind, size: number, chunk = 16 * KiB): Promise<MultipartParam> {
  const slice = data.subarray(0, size);
  switch (kind) {
    case 'file':
    case 'file read whole':
      return MultipartParam.fromFile('f', files.get(size)!, {
        filename: 'edge.bin',
        filetype: 'application/octet-stream',
      });
    case 'Blob':
      return new MultipartParam('f', { fileobj: new Blob([slice]), filename: 'edge.bin' });
    case 'bytes':
      return new MultipartParam('f', { value: slice, filename: 'edge.bin' });
    case 'stream': {
      const pieces: Buffer[] = [];
      for (let at = 0; at < size; at += chunk) pieces.push(slice.subarray(at, at + chunk));
      return new MultipartParam('f', { fileobj: Readable.from(pieces), filesize: size, filename: 'edge.bin' });
    }
  }
}

function readOptions(kind: Kind, blockSize?: number): EncodeOptions {
  return {
    boundary: B,
    ...(blockSize === undefined ? {} : { blockSize }),
    // A file of any size read in blocks, or (at the default limit and above) read whole.
    syncReadLimit: kind === 'file read whole' ? 2 * MiB : 0,
  };
}

async function drain(body: AsyncIterable<Buffer>, most = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    expect(chunk.length).toBeGreaterThan(0);
    expect(chunk.length).toBeLessThanOrEqual(most);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

describe('every data size at every buffer edge, fed directly', () => {
  for (const kind of KINDS) {
    it(`${kind}: sizes ${EDGES.join(', ')} with the default block size`, async () => {
      for (const size of EDGES) {
        const form = await multipartEncode([await param(kind, size)], readOptions(kind));
        const body = await drain(form.body);
        expect(body.equals(expected(size)), `${kind} of ${size} bytes`).toBe(true);
        expect(form.contentLength).toBe(body.length);
      }
    });
  }

  it.each(BLOCKS)(
    'block size %i: every file size, read in blocks, and iterEncode no chunk larger',
    async (blockSize) => {
      // One byte at a time is a read a byte: only the small sizes.
      const sizes = blockSize === 1 ? EDGES.filter((size) => size <= 16 * KiB + 1) : EDGES;
      for (const size of sizes) {
        const form = await multipartEncode([await param('file', size)], readOptions('file', blockSize));
        expect((await drain(form.body)).equals(expected(size)), `${size} bytes`).toBe(true);
        const part = await param('file', size);
        const whole = expected(size);
        const partBytes = await drain(part.iterEncode(B, blockSize), blockSize);
        expect(partBytes.equals(whole.subarray(0, whole.length - `--${B}--\r\n`.length)), `${size} bytes`).toBe(true);
      }
    },
  );

  it('a block size of 0 (or less) is refused, typed', async () => {
    for (const blockSize of [0, -1]) {
      await expect(multipartEncode([await param('file', 1)], { blockSize })).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTION',
      });
      expect(() => new MultipartParam('f', { value: 'x' }).iterEncode(B, blockSize)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
      );
    }
  });

  it.each([1, 16 * KiB - 1, 16 * KiB + 1, 64 * KiB - 1, 64 * KiB + 1])(
    'a stream of every edge size in chunks of %i bytes',
    async (chunk) => {
      for (const size of EDGES.filter((s) => s <= (chunk === 1 ? 64 * KiB + 1 : MiB + 1))) {
        const form = await multipartEncode([await param('stream', size, chunk)], readOptions('stream'));
        expect((await drain(form.body)).equals(expected(size)), `${size} bytes`).toBe(true);
      }
    },
  );
});

describe('small bodies split at every byte', () => {
  it('a stream split into two chunks at every byte, with a chosen boundary scanned for', async () => {
    const small = Buffer.from('a\r\n-- almost --edge-boundar\r\n-x');
    for (let at = 0; at <= small.length; at++) {
      const pieces = [small.subarray(0, at), small.subarray(at)];
      const form = await multipartEncode(
        [new MultipartParam('f', { fileobj: Readable.from(pieces), filesize: small.length, filename: 'edge.bin' })],
        { boundary: B },
      );
      const body = await drain(form.body);
      expect(body.subarray(body.indexOf('\r\n\r\n') + 4, body.length - `\r\n--${B}--\r\n`.length).equals(small)).toBe(
        true,
      );
    }
  });

  it('the delimiter split across two chunks at every byte is found', async () => {
    const evil = Buffer.from(`x\r\n--${B}\r\n`);
    for (let at = 0; at <= evil.length; at++) {
      const pieces = [evil.subarray(0, at), evil.subarray(at)];
      const form = await multipartEncode(
        [new MultipartParam('f', { fileobj: Readable.from(pieces), filesize: evil.length })],
        { boundary: B },
      );
      await expect(drain(form.body)).rejects.toMatchObject({ code: 'ERR_BOUNDARY_IN_DATA', paramName: 'f' });
    }
  });
});

describe('over a real socket', () => {
  let received: Promise<string>[] = [];
  const server = net.createServer((socket) => {
    const hash = createHash('sha256');
    received.push(
      pipeline(socket, async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) hash.update(chunk);
      }).then(() => hash.digest('hex')),
    );
  });
  const listening = once(server.listen(0, '127.0.0.1'), 'listening');
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it.each(['file', 'Blob', 'stream'] as const)('%s of every edge size arrives as built', async (kind) => {
    await listening;
    const { port } = server.address() as AddressInfo;
    for (const size of EDGES) {
      received = [];
      const form = await multipartEncode([await param(kind, size)], readOptions(kind));
      const socket = net.connect(port, '127.0.0.1');
      await once(socket, 'connect');
      await pipeline(Readable.from(form.body), socket);
      while (received.length === 0) await new Promise(setImmediate);
      expect(await received[0], `${kind} of ${size} bytes`).toBe(
        createHash('sha256').update(expected(size)).digest('hex'),
      );
    }
  });
});
