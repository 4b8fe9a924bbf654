import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MultipartParam, multipartEncode, rawBody, upload, type EncodedBody } from '../../src/index.js';
import { writeBody } from '../../src/http/body-writer.js';
import { RequestState } from '../../src/http/request-state.js';
import { chunksOf, EDGE_SIZES, everySplit, streamOf } from '../helpers/buffer-edges.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { feed, requestOnMemory } from '../helpers/memory-request.js';
import { json, startServer } from '../helpers/servers.js';

// The body writer at the edges of every buffer it meets: Node's request buffer (16 KiB), the
// progress slices (64 KiB) and the encoder's file blocks (1 MiB), with bodies and chunks of each
// size ± 1, over a real socket and fed directly to a request on an in-memory connection.

const dir = tempDir();
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A server that hashes what it gets; `slow` reads 16 KiB at a time with a pause, so back-pressure holds. */
const receiver = (slow: boolean) =>
  startServer((req, res) => {
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
      if (slow) {
        req.pause();
        setImmediate(() => req.resume());
      }
    });
    req.on('end', () =>
      json(res, 200, {
        length,
        sha256: hash.digest('hex'),
        declared: req.headers['content-length'] ?? null,
        chunked: req.headers['transfer-encoding'] === 'chunked',
      }),
    );
  });
const fast = await receiver(false);
const slow = await receiver(true);

interface Received {
  length: number;
  sha256: string;
  declared: string | null;
  chunked: boolean;
}

async function send(url: string, body: EncodedBody, expectContinue: boolean, progress: boolean): Promise<Received> {
  let last = -1;
  const response = await upload(url, body, {
    method: 'PUT',
    expectContinue,
    timeout: 30_000,
    ...(progress ? { onUploadProgress: (loaded: number) => (last = loaded) } : {}),
  });
  const received = (await response.json()) as Received;
  if (progress && body.contentLength !== undefined && body.contentLength > 0) expect(last).toBe(body.contentLength);
  return received;
}

describe('over a real socket: every edge size, in one chunk and in chunks of every edge size', () => {
  for (const size of EDGE_SIZES) {
    const data = bytes(size, size + 1);
    it(`${size} bytes`, async () => {
      const bodies: Array<[string, () => Promise<EncodedBody>]> = [
        ['bytes', () => rawBody(data)],
        ['a file', () => rawBody(writeFile(dir, `edge-${size}.bin`, data))],
        ['a file in 16 KiB blocks', () => rawBody(writeFile(dir, `edge-b-${size}.bin`, data), { blockSize: 16384 })],
        ...[1, 16383, 16384, 16385, 65536, 1048577]
          .filter((chunk) => (chunk === 1 ? size <= 16385 : true))
          .map((chunk): [string, () => Promise<EncodedBody>] => [
            `a stream in ${chunk}-byte chunks, size declared`,
            () => rawBody(streamOf(chunksOf(data, chunk)), { size }),
          ]),
        ['a stream of unknown size (chunked)', () => rawBody(streamOf(chunksOf(data, 65537)))],
      ];
      for (const [label, make] of bodies) {
        for (const [server, expectContinue, progress] of [
          [fast, false, false],
          [slow, true, true],
        ] as const) {
          const received = await send(server.url, await make(), expectContinue, progress);
          expect({ label, ...received }).toEqual({
            label,
            length: size,
            sha256: sha256(data),
            // A stream of unknown size goes out chunked; an empty one is ended at once with Content-Length: 0,
            // unless Expect sent its head first.
            declared: label.includes('unknown') && (size > 0 || expectContinue) ? null : String(size),
            chunked: label.includes('unknown') && (size > 0 || expectContinue),
          });
        }
      }
    });
  }

  it('a small body cut in two at every position', async () => {
    const data = bytes(48, 7);
    for (const chunks of everySplit(data)) {
      const received = await send(fast.url, await rawBody(streamOf(chunks), { size: data.length }), false, true);
      expect(received).toMatchObject({ length: data.length, sha256: sha256(data) });
    }
  });

  it('a multipart body whose file part ends at each edge size', async () => {
    for (const size of EDGE_SIZES) {
      const data = bytes(size, 3);
      const path = writeFile(dir, `part-${size}.bin`, data);
      const form = await multipartEncode({ note: 'n', file: await MultipartParam.fromFile('file', path) });
      const received = await send(slow.url, form, size > 65536, false);
      expect(received.length).toBe(form.contentLength);
    }
  });
});

describe('fed directly: writeBody on a request over an in-memory connection that calls back late', () => {
  for (const size of EDGE_SIZES) {
    it(`${size} bytes, first chunk in one piece and in edge-sized chunks, behind 16 KiB and 64 KiB buffers`, async () => {
      const data = bytes(size, 9);
      for (const highWaterMark of [16384, 65536]) {
        for (const chunk of [size || 1, 16384, 65537]) {
          expect(
            sha256(await feed(await rawBody(streamOf(chunksOf(data, chunk)), { size }), highWaterMark, true)),
          ).toBe(sha256(data));
        }
        expect(sha256(await feed(await rawBody(data), highWaterMark, false))).toBe(sha256(data));
        const unknown = await feed(await rawBody(streamOf(chunksOf(data, 65536))), highWaterMark, false);
        expect(sha256(unknown)).toBe(sha256(data));
      }
    });
  }

  it("a file's blocks are not read into again while a connection made in JS still holds them", async () => {
    // The in-memory connection keeps every chunk uncopied after calling back: reused blocks would show.
    const data = bytes(8 * 65536 + 1, 21);
    const path = writeFile(dir, 'held-blocks.bin', data);
    for (const progress of [false, true]) {
      const body = await rawBody(path, { blockSize: 65536, syncReadLimit: 0 });
      expect(sha256(await feed(body, 16384, progress))).toBe(sha256(data));
    }
  });

  it('stops at once, writing nothing more, when the request settles while it waits', async () => {
    const data = bytes(4 * 1024 * 1024, 2);
    const { req, written } = requestOnMemory(16384);
    req.setHeader('content-length', data.length);
    const state = new RequestState();
    const sending = writeBody(
      req,
      await rawBody(streamOf(chunksOf(data, 1024 * 1024)), { size: data.length }),
      { expectContinue: false, expectTimeout: 0, onUploadProgress: undefined, onBodySent: undefined },
      state,
    );
    await new Promise(setImmediate);
    state.failed(new Error('the server answered'));
    expect(await sending).toBe(false);
    const after = written().length;
    await new Promise((resolve) => setTimeout(resolve, 20));
    req.destroy();
    expect(written().length).toBeLessThan(data.length);
    expect(after).toBeLessThan(data.length);
  });
});
