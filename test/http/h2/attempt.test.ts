import { appendFileSync } from 'node:fs';
import type { ServerHttp2Stream } from 'node:http2';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { multipartEncode, rawBody } from '../../../src/multipart/encode.js';
import { MultipartParam } from '../../../src/multipart/param.js';
import { upload } from '../../../src/index.js';
import { bytes, tempDir, writeFile } from '../../helpers/files.js';
import {
  FRAME,
  receive,
  sha256,
  startH2Server,
  startRawH2Server,
  type RawFrame,
  type Received,
} from '../../helpers/h2.js';
import { post, send, testPool, text, until } from './client.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const EDGES = [0, 1, 16383, 16384, 16385, 65535, 65536, 65537, MiB - 1, MiB, MiB + 1];

const pool = testPool();
const h2c = await startH2Server(receive);
const h2 = await startH2Server(receive, { secure: true });

describe('one HTTP/2 attempt: the exact bytes with their exact content-length', () => {
  for (const server of [h2c, h2]) {
    const scheme = server === h2c ? 'h2c (prior knowledge)' : 'h2 over TLS';
    for (const size of EDGES) {
      it(`${scheme}: a raw body of ${size} bytes in one chunk`, async () => {
        const data = bytes(size, size + 1);
        const { status, json, bodySent } = await post<Received>(pool, server.url, await rawBody(data));
        expect({ status, bodySent }).toEqual({ status: 200, bodySent: true });
        expect(json).toEqual({ size, sha256: sha256(data), contentLength: String(size) });
      });
    }
  }

  it('a body split at every byte (chunks of 1 to 40 bytes, one-shot stream) arrives whole', async () => {
    const data = bytes(97, 3);
    for (let step = 1; step <= 40; step++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < data.length; at += step) chunks.push(data.subarray(at, at + step));
      const body = await rawBody(Readable.from(chunks), { size: data.length });
      const { json } = await post<Received>(pool, h2c.url, body);
      expect(json).toEqual({ size: 97, sha256: sha256(data), contentLength: '97' });
    }
  });

  it('chunks of every edge size in one stream, and a multipart form with files, arrive whole', async () => {
    const chunks = EDGES.map((size, i) => bytes(size, i + 7));
    const whole = Buffer.concat(chunks);
    const body = await rawBody(Readable.from(chunks), { size: whole.length });
    expect((await post<Received>(pool, h2.url, body)).json).toEqual({
      size: whole.length,
      sha256: sha256(whole),
      contentLength: String(whole.length),
    });
    const dir = tempDir();
    const form = await multipartEncode({
      a: 'x',
      file: await MultipartParam.fromFile('file', writeFile(dir, 'f.bin', bytes(3 * MiB + 5, 9))),
    });
    const encoded: Buffer[] = [];
    for await (const chunk of form.body) encoded.push(Buffer.from(chunk));
    const whole2 = Buffer.concat(encoded);
    const { json } = await post<Received>(pool, h2.url, form);
    expect(json).toEqual({ size: whole2.length, sha256: sha256(whole2), contentLength: String(whole2.length) });
  });

  it('all of these went over one session per origin', () => {
    expect(h2c.sessions).toHaveLength(1);
    expect(h2.sessions).toHaveLength(1);
  });
});

describe('progress and onBodySent', () => {
  it('progress rises in steps of at most 64 KiB to the total, then onBodySent once, then the answer', async () => {
    const events: Array<number | 'sent'> = [];
    const data = bytes(3 * MiB + 17, 5);
    const answer = await send(pool, h2.url, await rawBody(data, { blockSize: MiB }), {
      onUploadProgress: (loaded, total) => {
        expect(total).toBe(data.length);
        events.push(loaded);
      },
      onBodySent: () => events.push('sent'),
    });
    await text(answer);
    expect(events.at(-1)).toBe('sent');
    const loaded = events.slice(0, -1) as number[];
    expect(loaded.at(-1)).toBe(data.length);
    for (let i = 0; i < loaded.length; i++) {
      const step = loaded[i]! - (i === 0 ? 0 : loaded[i - 1]!);
      expect(step).toBeGreaterThan(0);
      expect(step).toBeLessThanOrEqual(64 * KiB);
    }
  });

  it('a progress callback that throws fails the attempt with ERR_CALLBACK_FAILED and cancels the stream', async () => {
    const closed: number[] = [];
    const server = await startH2Server((stream, headers) => {
      stream.on('close', () => closed.push(stream.rstCode));
      receive(stream, headers);
    });
    const failure = send(pool, server.url, await rawBody(bytes(MiB)), {
      onUploadProgress: () => {
        throw new Error('boom');
      },
    });
    await expect(failure).rejects.toMatchObject({ code: 'ERR_CALLBACK_FAILED' });
    await until(() => closed.length === 1);
    expect(closed).toEqual([8]); // CANCEL
  });

  it('an onBodySent that throws fails the attempt with ERR_CALLBACK_FAILED', async () => {
    const server = await startH2Server((stream) => {
      stream.resume(); // reads, never answers: the attempt can only end by its own failure
    });
    const failure = send(pool, server.url, await rawBody(bytes(1000)), {
      onBodySent: () => {
        throw new Error('boom');
      },
    });
    await expect(failure).rejects.toMatchObject({ code: 'ERR_CALLBACK_FAILED' });
  });
});

describe('async callbacks that reject: the same failure, never an unhandled rejection', () => {
  it.each([
    ['onUploadProgress', { onUploadProgress: async () => Promise.reject(new Error('later')) }],
    ['onBodySent', { onBodySent: async () => Promise.reject(new Error('later')) }],
  ])(
    'an async %s that rejects while the stream runs fails the attempt with ERR_CALLBACK_FAILED',
    async (_label, hooks) => {
      const server = await startH2Server((stream) => {
        stream.resume(); // reads, never answers: the attempt can only end by its own failure
      });
      await expect(send(pool, server.url, await rawBody(bytes(MiB)), hooks)).rejects.toMatchObject({
        code: 'ERR_CALLBACK_FAILED',
      });
    },
  );

  it('one that rejects once the stream has its answer goes to the upload instead', async () => {
    const late: unknown[] = [];
    const { status } = await post<Received>(pool, h2c.url, await rawBody(bytes(1000)), {
      onBodySent: async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error('later');
      },
      onLateFailure: (error) => late.push(error),
    });
    expect(status).toBe(200);
    await until(() => late.length === 1);
    expect(late[0]).toMatchObject({ code: 'ERR_CALLBACK_FAILED' });
  });
});

describe('an early final answer stops the body', () => {
  it('413 before the body is read: no more is sent, bodySent is false, the stream ends with RST_STREAM NO_ERROR', async () => {
    const streams: ServerHttp2Stream[] = [];
    const server = await startH2Server((stream) => {
      streams.push(stream);
      stream.pause(); // reads nothing: only the flow-control window's worth can come (and 'close' never fires)
      stream.respond({ ':status': 413 });
      stream.write('too large'); // the answer is not ended at once: the client reads it first
      setImmediate(() => stream.end());
    });
    let sent = false;
    const answer = await send(pool, server.url, await rawBody(bytes(8 * MiB)), { onBodySent: () => (sent = true) });
    expect({ status: answer.status, bodySent: answer.bodySent }).toEqual({ status: 413, bodySent: false });
    expect(await text(answer)).toBe('too large');
    await until(() => streams[0]!.closed);
    expect(streams[0]!.rstCode).toBe(0);
    expect(sent).toBe(false);
  });

  it('the session stays usable after an early answer', async () => {
    const { json } = await post<Received>(pool, h2.url, await rawBody(bytes(10)));
    expect(json.size).toBe(10);
  });
});

describe('a body that lies about its size, and headers', () => {
  it('a file that grew after it was measured: ERR_SIZE_MISMATCH; the stream is reset (CANCEL), never ended', async () => {
    const frames: RawFrame[] = [];
    const raw = await startRawH2Server((frame) => frames.push(frame));
    const dir = tempDir();
    const path = writeFile(dir, 'grows.bin', bytes(100 * KiB));
    const form = await multipartEncode({ file: await MultipartParam.fromFile('file', path) });
    appendFileSync(path, bytes(10));
    const error = await send(pool, `${raw.origin}/upload`, form).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
    await until(() => frames.some((frame) => frame.type === FRAME.RST_STREAM));
    const onStream = frames.filter((frame) => frame.streamId === 1);
    const reset = onStream.find((frame) => frame.type === FRAME.RST_STREAM)!;
    expect(reset.payload.readUInt32BE(0)).toBe(8); // CANCEL
    // END_STREAM (flag 1) on no DATA frame, nor on the HEADERS (a body was declared).
    expect(onStream.filter((frame) => frame.type !== FRAME.RST_STREAM && (frame.flags & 1) === 1)).toEqual([]);
  });

  it('HTTP/1.1 connection headers are dropped, Host becomes :authority, TE only as "trailers"', async () => {
    let seen: Record<string, unknown> = {};
    const server = await startH2Server((stream, headers) => {
      seen = { ...headers };
      stream.respond({ ':status': 204 });
      stream.end();
    });
    const answer = await send(pool, server.url, undefined, {
      method: 'GET',
      headers: {
        connection: 'keep-alive',
        'keep-alive': 'timeout=5',
        'proxy-connection': 'keep-alive',
        'transfer-encoding': 'chunked',
        upgrade: 'h2c',
        te: 'gzip',
        host: 'example.test',
        'x-kept': 'yes',
      },
    });
    expect(answer.status).toBe(204);
    await text(answer);
    expect(seen).toMatchObject({ ':authority': 'example.test', ':method': 'GET', ':path': '/upload', 'x-kept': 'yes' });
    for (const name of ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'host'])
      expect(seen).not.toHaveProperty(name);
  });

  it('a header named __proto__ is sent as one, as over HTTP/1.1 (never taken for the object prototype)', async () => {
    let seen: Record<string, unknown> = {};
    const server = await startH2Server((stream, headers) => {
      seen = Object.fromEntries(Object.entries(headers));
      stream.resume();
      stream.respond({ ':status': 204 });
      stream.end();
    });
    // An own key named __proto__, as JSON.parse makes one (upload()'s headers keep it, as WebIDL says).
    const headers = JSON.parse('{"__proto__": "p", "x-kept": "yes"}') as Record<string, string>;
    const response = await upload(server.url, { a: 'b' }, { http2: true, headers });
    expect(response.status).toBe(204);
    expect(Object.getOwnPropertyDescriptor(seen, '__proto__')?.value).toBe('p');
    expect(seen['x-kept']).toBe('yes');
  });
});
