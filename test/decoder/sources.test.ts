import { createReadStream } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { multipartDecode } from '../../src/decoder/decode.js';
import { DecodeError } from '../../src/decoder/errors.js';
import type { DecodeSource } from '../../src/decoder/source.js';
import { bytes, openFilesUnder, tempDir, writeFile } from '../helpers/files.js';
import { chunksOf, decodeAll, failure, splitAt } from './helpers.js';

const MiB = 1024 * 1024;
const SIZES = [0, 1, 16383, 16384, 16385, 65535, 65536, 65537, MiB - 1, MiB, MiB + 1];
const B = 'src-boundary';
const TYPE = `multipart/form-data; boundary=${B}`;

/** A body whose one part holds `size` bytes. */
function bodyWith(size: number): { body: Buffer; data: Buffer } {
  const data = bytes(size, size + 1);
  return {
    body: Buffer.concat([
      Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="p"\r\n\r\n`),
      data,
      Buffer.from(`\r\n--${B}--\r\n`),
    ]),
    data,
  };
}

// One server for the sources that come over HTTP: it sends back the body it is asked for, and decodes requests sent to it.
const bodies = new Map<string, Buffer>();
let serverSide: (req: IncomingMessage) => Promise<unknown> = async () => undefined;
const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    const body = bodies.get(req.url!)!;
    res.writeHead(200, { 'content-type': TYPE, 'content-length': body.length }).end(body);
    return;
  }
  serverSide(req).then(
    (value) => res.writeHead(200).end(JSON.stringify(value)),
    (error: Error) => res.writeHead(400).end(error.message),
  );
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));

const get = (path: string) =>
  new Promise<IncomingMessage>((resolve, reject) => http.get(`${origin}${path}`, resolve).on('error', reject));

type Maker = (body: Buffer, path: string) => Promise<DecodeSource> | DecodeSource;
const dir = tempDir();
const kinds: [string, Maker, boolean][] = [
  ['a Buffer', (body) => body, false],
  ['a Uint8Array', (body) => new Uint8Array(body), false],
  ['an ArrayBuffer', (body) => new Uint8Array(body).buffer, false],
  ['a Blob', (body) => new Blob([body]), false],
  ['an array of 16 KiB chunks', (body) => chunksOf(body, 16384), false],
  [
    'an async generator of 65537-byte chunks',
    (body) =>
      (async function* () {
        yield* chunksOf(body, 65537);
      })(),
    false,
  ],
  ['a Readable of 16383-byte chunks', (body) => Readable.from(chunksOf(body, 16383)), false],
  ['a file read stream', (body, path) => createReadStream(writeFile(dir, path.slice(1), body)), false],
  ['a web ReadableStream', (body) => new Response(body).body!, false],
  [
    'an http.IncomingMessage (a client answer, Content-Type from its headers)',
    (body, path) => (bodies.set(path, body), get(path)),
    true,
  ],
  [
    'a fetch Response (Content-Type from its headers)',
    async (body, path) => (bodies.set(path, body), fetch(`${origin}${path}`)),
    true,
  ],
];

describe.each(kinds)('from %s', (_kind, make, typed) => {
  it.each(SIZES)('a part of %i bytes', async (size) => {
    const { body, data } = bodyWith(size);
    const source = await make(body, `/k${size}-${Math.random().toString(36).slice(2)}`);
    const parts = await decodeAll(source, typed ? undefined : { contentType: TYPE });
    expect(parts).toHaveLength(1);
    expect(parts[0]!.data.equals(data)).toBe(true);
  });
});

describe('a request in a server of your own', () => {
  it.each(SIZES)('a part of %i bytes, read from the request itself', async (size) => {
    const { body, data } = bodyWith(size);
    serverSide = async (req) => (await decodeAll(req)).map((part) => part.data.equals(data));
    const response = await fetch(origin, { method: 'POST', headers: { 'content-type': TYPE }, body });
    expect(await response.json()).toEqual([true]);
  });

  it('a decode error leaves the request drained so that the server can answer it', async () => {
    serverSide = async (req) => decodeAll(req, { maxParts: 1 });
    const { body } = bodyWith(10);
    const two = Buffer.concat([body.subarray(0, body.length - `--${B}--\r\n`.length), body, Buffer.alloc(4 * MiB)]);
    const response = await fetch(origin, { method: 'POST', headers: { 'content-type': TYPE }, body: two });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/more than 1 parts/);
  });
});

describe('what the source is left in', () => {
  it('a file stream is closed when the decoder stops early', async () => {
    const { body } = bodyWith(4 * MiB);
    const path = writeFile(dir, 'early.bin', body);
    const stream = createReadStream(path);
    const parts = multipartDecode(stream, { contentType: TYPE });
    await parts.next();
    await parts.return();
    if (!stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('a nested multipart part is decoded in turn, its Content-Type taken from the part', async () => {
    const inner = `--in\r\nContent-Type: text/plain\r\n\r\none\r\n--in\r\n\r\ntwo\r\n--in--`;
    const outer = Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="n"\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n${inner}\r\n--${B}--\r\n`,
    );
    for (const chunks of [[outer], chunksOf(outer, 1)]) {
      const texts: string[] = [];
      for await (const part of multipartDecode(chunks, { contentType: TYPE })) {
        for await (const inside of multipartDecode(part)) texts.push(`${inside.contentType}:${await inside.text()}`);
      }
      expect(texts).toEqual(['text/plain:one', 'undefined:two']);
    }
  });

  it('the boundary from options wins over the Content-Type', async () => {
    const body = Buffer.from(`--xyz\r\n\r\nv\r\n--xyz--`);
    expect(
      await decodeAll(new Response(body, { headers: { 'content-type': TYPE } }), { boundary: 'xyz' }),
    ).toHaveLength(1);
  });
});

/** Unhandled rejections while `run` runs, and for a few turns of the event loop after (bounded). */
async function unhandledDuring(run: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await run();
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setTimeout(resolve, 5));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

describe('a source whose own cleanup fails: every case settles with a typed error, and the process goes on', () => {
  const good = bodyWith(70_000).body;
  const malformed = Buffer.from(`--${B}\r\nno colon here\r\n\r\nx\r\n--${B}--\r\n`);
  const cleanups: [string, () => unknown][] = [
    [
      'throws synchronously',
      () => {
        throw new Error('return() threw');
      },
    ],
    ['rejects', () => Promise.reject(new Error('return() rejected'))],
    ['never settles', () => new Promise(() => {})],
    [
      'throws an object with no prototype',
      () => {
        throw Object.create(null);
      },
    ],
  ];
  type Hostile = (chunks: Buffer[], cleanup: () => unknown) => DecodeSource;
  const hostiles: [string, Hostile][] = [
    [
      "an async iterator's return()",
      (chunks, cleanup) =>
        ({
          [Symbol.asyncIterator]: () => {
            let at = 0;
            return {
              next: async () =>
                at < chunks.length ? { done: false, value: chunks[at++]! } : { done: true, value: undefined },
              return: cleanup,
            };
          },
        }) as unknown as DecodeSource,
    ],
    [
      "an iterator's return()",
      (chunks, cleanup) =>
        ({
          [Symbol.iterator]: () => {
            let at = 0;
            return {
              next: () =>
                at < chunks.length ? { done: false, value: chunks[at++]! } : { done: true, value: undefined },
              return: cleanup,
            };
          },
        }) as unknown as DecodeSource,
    ],
    [
      "a ReadableStream reader's cancel()",
      (chunks, cleanup) => {
        let at = 0;
        const reader = {
          read: async () =>
            at < chunks.length ? { done: false, value: chunks[at++]! } : { done: true, value: undefined },
          cancel: cleanup,
        };
        return { getReader: () => reader } as unknown as ReadableStream<Uint8Array>;
      },
    ],
  ];
  const chunkings: [string, (body: Buffer) => Buffer[]][] = [
    ['whole', (body) => [body]],
    ...[1, 16383, 16385, 65535, 65537].map((size): [string, (body: Buffer) => Buffer[]] => [
      `in ${size}-byte chunks`,
      (body) => chunksOf(body, size),
    ]),
  ];
  const rows = hostiles.flatMap(([kind, make]) =>
    cleanups.flatMap(([fate, cleanup]) =>
      chunkings.map(([how, cut]) => [`${kind} ${fate}, ${how}`, make, cleanup, cut] as const),
    ),
  );

  it.each(rows)('%s: leaving the loop early, and a malformed body', async (_what, make, cleanup, cut) => {
    const seen = await unhandledDuring(async () => {
      for await (const part of multipartDecode(make(cut(good), cleanup), { contentType: TYPE })) {
        expect(part.name).toBe('p');
        break;
      }
      const decoder = multipartDecode(make(cut(good), cleanup), { contentType: TYPE });
      const { value } = await decoder.next();
      await value!.stream().cancel();
      await decoder.return();
      expect(await failure(decodeAll(make(cut(malformed), cleanup), { contentType: TYPE }))).toMatchObject({
        code: 'ERR_MALFORMED_HEADER',
      });
    });
    expect(seen).toEqual([]);
  });

  it('a body split at every byte, its iterator throwing from return(): the same parts, nothing unhandled', async () => {
    const small = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nxy\r\n--${B}--\r\n`);
    const seen = await unhandledDuring(async () => {
      for (let at = 0; at <= small.length; at++) {
        const source = hostiles[0]![1](splitAt(small, at), cleanups[0]![1]);
        expect((await decodeAll(source, { contentType: TYPE })).map((p) => p.data.toString())).toEqual(['xy']);
      }
    });
    expect(seen).toEqual([]);
  });
});

describe('a source whose factory or getter throws: a DecodeError, thrown by multipartDecode() at once', () => {
  const cause = new Error('factory failed');
  const fail = () => {
    throw cause;
  };
  const sources: [string, unknown, string][] = [
    ['[Symbol.asyncIterator]() throws', { [Symbol.asyncIterator]: fail }, 'ERR_SOURCE_FAILED'],
    ['[Symbol.iterator]() throws', { [Symbol.iterator]: fail }, 'ERR_SOURCE_FAILED'],
    ["a Blob-like's stream() throws", { stream: fail, arrayBuffer: () => {} }, 'ERR_SOURCE_FAILED'],
    [
      "a Response-like's body getter throws",
      {
        headers: {},
        get body() {
          return fail();
        },
      },
      'ERR_SOURCE_FAILED',
    ],
    ["a Response-like's headers.get() throws", { headers: { get: fail }, body: null }, 'ERR_SOURCE_FAILED'],
    ['[Symbol.asyncIterator]() returns undefined', { [Symbol.asyncIterator]: () => undefined }, 'ERR_INVALID_SOURCE'],
    ['[Symbol.iterator]() returns an object without next()', { [Symbol.iterator]: () => ({}) }, 'ERR_INVALID_SOURCE'],
  ];
  it.each(sources)('%s', async (_what, source, code) => {
    const seen = await unhandledDuring(async () => {
      let thrown: unknown;
      try {
        multipartDecode(source as DecodeSource, { boundary: B });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DecodeError);
      expect(thrown).toMatchObject({ code, ...(code === 'ERR_SOURCE_FAILED' ? { cause } : {}) });
    });
    expect(seen).toEqual([]);
  });
});
