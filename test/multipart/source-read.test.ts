import { appendFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { multipartEncode, MultipartParam, rawBody, type EncodedBody } from '../../src/index.js';
import { EDGE_SIZES } from '../helpers/buffer-edges.js';
import { bytes, openFilesUnder, tempDir, writeFile } from '../helpers/files.js';

// A source that ends the body (a raw body's: the whole body) and then lies (yields more than its
// declared size, or fails) fails the body before its last byte goes out: a server never takes a
// short or long body for a whole one. And a consumer that leaves while a source's next chunk is
// pending lets go of it at once (see BodyChunks in src/multipart/source-read.ts).

/** `promise`, or 'timed out' after `ms`: every wait in these tests is bounded. */
async function within<T>(promise: Promise<T>, ms = 5000): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Lets the event loop turn `count` times. */
async function turns(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn++) await new Promise(setImmediate);
}

type Lie = 'yields more' | 'fails after its size';

/** Two chunks of `chunkSize` bytes (the declared size is both), then the lie. */
async function* lying(chunkSize: number, lie: Lie): AsyncGenerator<Uint8Array> {
  yield bytes(chunkSize, 1);
  yield bytes(chunkSize, 2);
  await new Promise(setImmediate);
  if (lie === 'yields more') yield Buffer.from('X');
  else throw new Error('the source broke after its declared size');
}

const KINDS = {
  'async iterable': (chunks: AsyncGenerator<Uint8Array>) => chunks,
  Readable: (chunks: AsyncGenerator<Uint8Array>) => Readable.from(chunks, { objectMode: false }),
  ReadableStream: (chunks: AsyncGenerator<Uint8Array>) => ReadableStream.from(chunks),
};

const EXPECTED: Record<Lie, string> = {
  'yields more': 'ERR_SIZE_MISMATCH',
  'fails after its size': 'ERR_SOURCE_FAILED',
};

/** Reads the body; the bytes it gave before it failed, and the failure. */
async function drain(body: AsyncIterable<Buffer>): Promise<{ got: number; error: unknown }> {
  let got = 0;
  try {
    for await (const chunk of body) got += chunk.length;
  } catch (error) {
    return { got, error };
  }
  return { got, error: undefined };
}

describe('a raw body whose stream lies after its declared size fails before its last byte', () => {
  const cases = EDGE_SIZES.flatMap((size) =>
    (['yields more', 'fails after its size'] as const).flatMap((lie) =>
      (Object.keys(KINDS) as Array<keyof typeof KINDS>).map((kind) => [size, lie, kind] as const),
    ),
  );
  it.each(cases)('chunks of %i bytes, %s, as a %s', async (size, lie, kind) => {
    const body = await rawBody(KINDS[kind](lying(size, lie)), { size: 2 * size });
    const { got, error } = await drain(body.body);
    expect(error).toMatchObject({ name: 'MultipartError', code: EXPECTED[lie], paramName: 'body' });
    expect(got).toBeLessThanOrEqual(Math.max(2 * size - 1, 0));
  });

  it('a stream that ends as declared is sent whole, its last chunk once it ended', async () => {
    const data = bytes(3 * 65_537);
    const body = await rawBody(Readable.from([data.subarray(0, 65_537), data.subarray(65_537)]), {
      size: data.length,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of body.body) chunks.push(chunk);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });
});

/** A server on 127.0.0.1 that says, of each connection, how many body bytes came and whether the request ended. */
async function recordingServer() {
  const seen: Array<{ bytes: number; complete: boolean }> = [];
  const connections = new Set<Promise<void>>();
  const server = http.createServer((req, res) => {
    const entry = { bytes: 0, complete: false };
    seen.push(entry);
    req.on('data', (chunk: Buffer) => (entry.bytes += chunk.length));
    req.on('end', () => {
      entry.complete = true;
      res.end('ok');
    });
    req.on('error', () => {});
  });
  server.on('connection', (socket) => {
    connections.add(new Promise((resolve) => socket.on('close', () => resolve())));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return { port: (server.address() as AddressInfo).port, seen, connections };
}

/** `pipeline(body, request)`, as a caller of node:http writes it; the pipeline's failure, once the server saw the connection close. */
async function piped(port: number, form: EncodedBody, connections: Set<Promise<void>>) {
  connections.clear();
  const req = http.request({ host: '127.0.0.1', port, method: 'PUT', headers: form.headers, agent: false });
  req.on('error', () => {});
  req.on('response', (res) => res.resume());
  const failure = await pipeline(form.body, req).then(
    () => undefined,
    (error: unknown) => error,
  );
  // The client's connection is gone (the pipeline destroyed it): the server sees it close.
  expect(await within(Promise.all(connections))).not.toBe('timed out');
  return failure;
}

describe('over a socket: the server never takes the body of a lying source for a whole one', () => {
  const server = recordingServer();
  const cases = EDGE_SIZES.flatMap((size) =>
    (['yields more', 'fails after its size'] as const).map((lie) => [size, lie] as const),
  );
  it.each(cases)('chunks of %i bytes, %s', async (size, lie) => {
    const { port, seen, connections } = await server;
    seen.length = 0;
    const form = await rawBody(lying(size, lie), { size: 2 * size });
    const failure = await piped(port, form, connections);
    expect(failure).toMatchObject({ code: EXPECTED[lie] });
    for (const request of seen) {
      expect(request.complete).toBe(false);
      expect(request.bytes).toBeLessThan(2 * size);
    }
  });

  it.each([16_383, 16_384, 65_536, 1_048_576, 1_048_577])(
    'a file of whole blocks of %i bytes that grows while it is read fails before its last block',
    async (blockSize) => {
      const { port, seen, connections } = await server;
      // Enough blocks that some go out (blocks under 64 KiB are gathered) before the file grows.
      const size = blockSize * Math.max(4, Math.ceil(131_072 / blockSize));
      const dir = tempDir();
      // Growth seen once the first block went out: read directly, then sent over a socket.
      for (const overSocket of [false, true]) {
        seen.length = 0;
        const path = writeFile(dir, `grows-${overSocket}.bin`, bytes(size));
        const form = await rawBody(path, { blockSize, syncReadLimit: 0 });
        let got = 0;
        const growing = (async function* () {
          for await (const chunk of form.body) {
            if (got === 0) appendFileSync(path, 'appended');
            got += chunk.length;
            yield chunk;
          }
        })();
        const failure = overSocket
          ? await piped(port, { ...form, body: growing as never }, connections)
          : (await drain(growing)).error;
        expect(failure).toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'body' });
        expect(got).toBeLessThan(size);
        expect(seen.every((request) => !request.complete && request.bytes < size)).toBe(true);
      }
    },
  );
});

/** Sources that give one 1 MiB chunk, then never another: each says whether it was let go of. */
const SILENT = {
  Readable: () => {
    const stream = new Readable({ read() {} });
    stream.push(bytes(1_048_576));
    return { source: stream, released: () => stream.destroyed };
  },
  ReadableStream: () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(bytes(1_048_576)),
      cancel: () => void (cancelled = true),
    });
    return { source: stream, released: () => cancelled };
  },
};

/** A multipart body whose stream part has given its first chunk and whose next one is pending. */
async function pendingForm(kind: keyof typeof SILENT) {
  const { source, released } = SILENT[kind]();
  const form = await multipartEncode({ s: new MultipartParam('s', { fileobj: source }) });
  return { form, released };
}

describe('leaving a body while its stream is silent lets go of the stream at once', () => {
  it.each(Object.keys(SILENT) as Array<keyof typeof SILENT>)(
    'toReadableStream().cancel(), a %s source',
    async (kind) => {
      const { form, released } = await pendingForm(kind);
      const reader = form.toReadableStream().getReader();
      let got = 0;
      while (got < 1_048_576) got += (await reader.read()).value!.length;
      const next = reader.read(); // pending: the source says nothing more
      await turns(10); // the body now waits on the source's next chunk
      expect(await within(reader.cancel().then(() => 'cancelled'))).toBe('cancelled');
      expect(released()).toBe(true);
      expect(await within(next)).toMatchObject({ done: true });
    },
  );

  it.each(Object.keys(SILENT) as Array<keyof typeof SILENT>)(
    "the body iterator's return() while next() is pending, a %s source",
    async (kind) => {
      const { form, released } = await pendingForm(kind);
      const chunks = form.body[Symbol.asyncIterator]();
      let got = 0;
      while (got < 1_048_576) got += (await chunks.next()).value!.length;
      const next = chunks.next();
      await turns(10); // the body now waits on the source's next chunk
      expect(await within(chunks.return().then(() => 'returned'))).toBe('returned');
      expect(released()).toBe(true);
      expect(await within(next)).toMatchObject({ done: true });
    },
  );

  it('a plain async iterator cannot be made to settle: it is asked to return, and return() does not wait for it', async () => {
    let returned = false;
    let pulls = 0;
    const iterator: AsyncIterator<Uint8Array> = {
      next: () => (pulls++ === 0 ? Promise.resolve({ done: false, value: bytes(1_048_576) }) : new Promise(() => {})),
      return: () => {
        returned = true;
        return new Promise(() => {}); // as an async generator's, queued behind its pending next()
      },
    };
    const form = await multipartEncode({
      s: new MultipartParam('s', { fileobj: { [Symbol.asyncIterator]: () => iterator } }),
    });
    const reader = form.toReadableStream().getReader();
    let got = 0;
    while (got < 1_048_576) got += (await reader.read()).value!.length;
    void reader.read();
    for (let turn = 0; turn < 100 && pulls < 2; turn++) await new Promise(setImmediate); // its next() is pending
    expect(pulls).toBe(2);
    expect(await within(reader.cancel().then(() => 'cancelled'))).toBe('cancelled');
    expect(returned).toBe(true);
  });

  it('a file being read is closed once its pending read returns', async () => {
    const dir = tempDir();
    const path = writeFile(dir, 'big.bin', bytes(4 * 1_048_576));
    const form = await rawBody(path, { syncReadLimit: 0 });
    const chunks = form.body[Symbol.asyncIterator]();
    await chunks.next();
    const next = chunks.next();
    expect(await within(chunks.return().then(() => 'returned'))).toBe('returned');
    await within(next.catch(() => {}));
    expect(openFilesUnder(dir)).toEqual([]);
  });
});
