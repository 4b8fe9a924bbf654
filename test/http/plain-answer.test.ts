// uploadPlain(), the way uploadParts' requests go out: upload()'s request, retries and redirects,
// with the answer handed on as status, headers and text instead of a Response. Each answer below
// comes from a real server on 127.0.0.1 that misbehaves on purpose.
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { rawBody, UploadError } from '../../src/index.js';
import { uploadPlain } from '../../src/http/upload.js';
import { EDGE_SIZES, chunksOf } from '../helpers/buffer-edges.js';
import { startServer } from '../helpers/servers.js';

const body = () => rawBody(Buffer.from('hello'));

async function failure(promise: Promise<unknown>): Promise<UploadError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UploadError);
  return error as UploadError;
}

/** What `read(limit)` gives as text. */
const text = async (answer: { read(limit: number): Promise<{ text: string }> }, limit: number) =>
  (await answer.read(limit)).text;

describe('uploadPlain', () => {
  it('hands on the status, the headers (repeated ones joined, any case) and the URL after a redirect', async () => {
    const server = await startServer((req, res) => {
      req.resume();
      if (req.url === '/upload') return void res.writeHead(307, { location: '/there' }).end();
      res.setHeader('x-many', ['a', 'b']);
      res.writeHead(201, { etag: '"e1"', 'content-type': 'text/plain' }).end('stored');
    });
    const answer = await uploadPlain(server.url, await body(), { method: 'PUT' });
    expect(answer.status).toBe(201);
    expect(answer.url).toBe(`${server.origin}/there`);
    expect(answer.headers.get('ETag')).toBe('"e1"');
    expect(answer.headers.get('x-many')).toBe('a, b');
    expect(answer.headers.has('missing')).toBe(false);
    expect(await text(answer, 64)).toBe('stored');
    expect(await text(answer, 64)).toBe('stored'); // read once, the same text again
  });

  it('reads at most `limit` bytes of a longer body and drops its connection', async () => {
    const closed: Socket[] = [];
    const server = await startServer((req, res) => {
      req.resume();
      req.socket.once('close', () => closed.push(req.socket));
      res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
      res.write(Buffer.alloc(256 * 1024, 'x'));
      // The rest never comes: only the cut lets read() settle.
    });
    const answer = await uploadPlain(server.url, await body(), {});
    const read = await answer.read(1000);
    expect(read).toEqual({ text: 'x'.repeat(1000), cut: true });
    for (let i = 0; i < 200 && closed.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toHaveLength(1);
  });

  describe('a body at the edges of every buffer, written in chunks of 16 KiB and 64 KiB ± 1, read up to a 64 KiB limit', () => {
    const LIMIT = 64 * 1024;
    const bodyOf = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => 97 + (i % 26)));
    it.each(EDGE_SIZES.flatMap((size) => [16383, 16385, 65535, 65537].map((chunk) => [size, chunk] as const)))(
      '%i bytes in chunks of %i',
      async (size, chunk) => {
        const sent = bodyOf(size);
        const server = await startServer((req, res) => {
          req.resume();
          res.writeHead(200, { 'content-length': String(size) });
          const pieces = chunksOf(sent, chunk);
          const next = () => {
            const piece = pieces.shift();
            if (piece === undefined) return void res.end();
            if (res.write(piece)) setImmediate(next);
            else res.once('drain', next);
          };
          next();
        });
        const answer = await uploadPlain(server.url, await body(), {});
        expect(await text(answer, LIMIT)).toBe(sent.subarray(0, LIMIT).toString('utf8'));
        await server.close();
      },
    );
  });

  it.each([
    ['a 204', 'POST', 204],
    ['a 304', 'POST', 304],
    ['a HEAD', 'HEAD', 200],
  ])('%s has an empty text', async (_, method, status) => {
    const server = await startServer((req, res) => {
      req.resume();
      res.writeHead(status, { 'content-length': '5' }).end();
    });
    const answer = await uploadPlain(server.url, method === 'HEAD' ? await rawBody(new Uint8Array(0)) : await body(), {
      method,
    });
    expect(answer.status).toBe(status);
    expect(await text(answer, 100)).toBe('');
  });

  it('a body cut short is ERR_REQUEST_FAILED naming the URL', async () => {
    const server = await startServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.destroy(), 20);
    });
    const answer = await uploadPlain(server.url, await body(), {});
    const error = await failure(text(answer, 1000));
    expect(error.code).toBe('ERR_REQUEST_FAILED');
    expect(error.message).toContain(server.url);
  });

  it('an abort or the timeout while the body arrives ends read() with its own error', async () => {
    const server = await startServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': '100' });
      res.write('slow');
    });
    const controller = new AbortController();
    const answer = await uploadPlain(server.url, await body(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect((await failure(text(answer, 1000))).code).toBe('ERR_ABORTED');

    const timed = await uploadPlain(server.url, await body(), { timeout: 300 });
    expect((await failure(text(timed, 1000))).code).toBe('ERR_TIMEOUT');
  });
});
