import { describe, expect, it } from 'vitest';
import { isUploadBody, recyclingChunks } from '../../src/multipart/encode.js';
import { multipartEncode, MultipartParam, rawBody } from '../../src/index.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { collect } from '../helpers/parse.js';
import { drainOrCode } from '../helpers/outcome.js';

// The encoded result (src/multipart/body.ts): a body that can be read again, frozen headers, a
// brand that holds across builds; and the bytes in it, which must not change after encoding.
const dir = tempDir();

/** ES2024's resizable ArrayBuffer (Node 20 has it; the ES2023 lib does not type it). */
const ResizableBuffer = ArrayBuffer as unknown as new (
  length: number,
  options: { maxByteLength: number },
) => ArrayBuffer & { resize(length: number): void };

describe('an encoded body cannot be made to disagree with itself', () => {
  it('the result and its headers are frozen: what upload() sends is what was measured', async () => {
    for (const encoded of [await multipartEncode({ a: 'b' }), await rawBody(new Uint8Array(3))]) {
      expect(Object.isFrozen(encoded) && Object.isFrozen(encoded.headers)).toBe(true);
      expect(() => {
        (encoded.headers as Record<string, string>)['Content-Length'] = '1';
      }).toThrow(TypeError);
    }
  });

  it.each<[string, () => Promise<{ body: AsyncIterable<Buffer>; contentLength: number | undefined }>, string | RegExp]>(
    [
      [
        'a resizable ArrayBuffer grown after encoding (the view was fixed)',
        async () => {
          const buffer = new ResizableBuffer(4, { maxByteLength: 64 });
          const encoded = await rawBody(new Uint8Array(buffer).fill(65));
          buffer.resize(64);
          return encoded;
        },
        /^AAAA$/,
      ],
      [
        'a resizable ArrayBuffer shrunk after encoding',
        async () => {
          const buffer = new ResizableBuffer(8, { maxByteLength: 64 });
          const encoded = await multipartEncode({ r: new Uint8Array(buffer) });
          buffer.resize(2);
          return encoded;
        },
        'ERR_SIZE_MISMATCH r',
      ],
      [
        'a buffer detached (transferred) after encoding',
        async () => {
          const data = new Uint8Array(16);
          const encoded = await multipartEncode({ d: data });
          structuredClone(data.buffer, { transfer: [data.buffer] });
          return encoded;
        },
        'ERR_SIZE_MISMATCH d',
      ],
      [
        'an onProgress that throws',
        () =>
          multipartEncode(
            { a: 'x' },
            {
              onProgress: () => {
                throw new Error('no');
              },
            },
          ),
        'ERR_CALLBACK_FAILED',
      ],
      [
        // Its rejection comes after the call, here after the last chunk: the body still fails.
        'an async onProgress that rejects',
        () =>
          multipartEncode(
            { a: 'x' },
            {
              onProgress: async () => {
                throw new Error('no');
              },
            },
          ),
        'ERR_CALLBACK_FAILED',
      ],
      [
        'an async param cb that rejects',
        () =>
          multipartEncode([
            new MultipartParam('c', {
              value: 'x',
              cb: async () => Promise.reject(new Error('no')),
            }),
          ]),
        'ERR_CALLBACK_FAILED',
      ],
      [
        'a param cb that throws',
        () =>
          multipartEncode([
            new MultipartParam('c', {
              value: 'x',
              cb: () => {
                throw new Error('no');
              },
            }),
          ]),
        'ERR_CALLBACK_FAILED',
      ],
    ],
  )('%s', async (_label, make, expected) => {
    const { body, contentLength } = await make();
    const outcome = await drainOrCode(body);
    if (typeof expected === 'string') expect(outcome).toBe(expected);
    else {
      expect(Buffer.isBuffer(outcome), String(outcome)).toBe(true);
      expect((outcome as Buffer).toString('latin1')).toMatch(expected);
      expect((outcome as Buffer).length).toBe(contentLength);
    }
  });
});

describe('the body', () => {
  it('is an UploadBody by its brand, one of another build too; nothing else is', async () => {
    const { body } = await multipartEncode({ a: 'b' });
    expect(isUploadBody(body)).toBe(true);
    const otherBuild = { [Symbol.for('multipart-poster.UploadBody')]: true };
    expect(isUploadBody(otherBuild)).toBe(true);
    for (const value of [null, undefined, {}, 'body', { [Symbol('multipart-poster.UploadBody')]: true }])
      expect(isUploadBody(value)).toBe(false);
  });

  it('reads again to identical bytes, as long as no one-shot stream was read', async () => {
    const path = writeFile(dir, 'again.bin', bytes(300_000, 3));
    const form = await multipartEncode({ f: await MultipartParam.fromFile('f', path), t: 'text', b: new Blob(['b']) });
    const first = await collect(form.body);
    expect((await collect(form.body)).equals(first)).toBe(true);
    expect(form.body.replayable).toBe(true);
    expect(form.body.length).toBe(first.length);
  });

  it("recycling chunks hands file blocks back to be read into again, never the caller's bytes", async () => {
    const path = writeFile(dir, 'recycled.bin', bytes(4 * 65_536, 5));
    const own = Buffer.alloc(65_536, 9);
    const form = await multipartEncode(
      { f: await MultipartParam.fromFile('f', path), own },
      {
        blockSize: 65_536,
        syncReadLimit: 0,
      },
    );
    const { chunks, recycle } = recyclingChunks(form.body);
    const seen = new Set<ArrayBufferLike>();
    const copies: Buffer[] = [];
    for await (const chunk of chunks) {
      copies.push(Buffer.from(chunk));
      if (chunk.length === 65_536 && chunk.buffer !== own.buffer) seen.add(chunk.buffer);
      recycle(chunk);
    }
    expect(Buffer.concat(copies).equals(await collect(form.body))).toBe(true);
    expect(own.equals(Buffer.alloc(65_536, 9))).toBe(true); // the caller's bytes were never read into
    expect(seen.size).toBeLessThan(4); // four blocks of the file, read into fewer buffers
  });

  it('dispose() of a body that spooled nothing is a no-op, and it still reads', async () => {
    const form = await multipartEncode({ a: 'b' });
    await form.dispose();
    expect((await collect(form.body)).length).toBe(form.contentLength);
  });
});
