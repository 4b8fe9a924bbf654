import { readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { multipartEncode, MultipartParam, rawBody } from '../../src/index.js';
import { bytes, tempDir } from '../helpers/files.js';
import { collect, parseWithBusboy } from '../helpers/parse.js';

function streamOf(data: Buffer, chunk = 64 * 1024): AsyncGenerator<Uint8Array> {
  return (async function* () {
    const shared = Buffer.alloc(chunk); // reused between yields, as some streams do
    for (let i = 0; i < data.length; i += chunk) {
      const piece = data.subarray(i, i + chunk);
      piece.copy(shared);
      yield shared.subarray(0, piece.length);
    }
  })();
}

/** Detaches a chunk's buffer, as a `type: 'bytes'` web stream would; Node 22 and later refuse it for Buffers from their pool. */
function transfer(chunk: Uint8Array): void {
  try {
    structuredClone(chunk.buffer, { transfer: [chunk.buffer as ArrayBuffer] });
  } catch (error) {
    if ((error as Error).name !== 'DataCloneError') throw error;
  }
}

describe('spool: a stream of unknown length made exact and replayable', () => {
  it.each([
    ['in memory (below memoryLimit)', 200_000, 0],
    ['in a temporary file (above it)', 3_000_000, 1],
  ])('%s', async (_label, size, expectedFiles) => {
    const dir = tempDir();
    const data = bytes(size, 11);
    const form = await multipartEncode(
      { f: new MultipartParam('f', { fileobj: streamOf(data) }), after: 'x' },
      { spool: { dir } },
    );
    expect(readdirSync(dir)).toHaveLength(expectedFiles);
    expect(form.contentLength).toBeDefined();
    expect(form.body.replayable).toBe(true);
    const once = await collect(form.body);
    const twice = await collect(form.body);
    expect(once.length).toBe(form.contentLength);
    expect(twice.equals(once)).toBe(true);
    const parts = await parseWithBusboy(form.headers, once);
    expect(parts[0]!.data.equals(data)).toBe(true);
    await form.dispose();
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([
    ['in memory (below memoryLimit)', 600_000],
    ['in a temporary file (above it)', 3_000_000],
  ])(
    '%s: what a consumer does with the chunks it gets (a scrub, a transfer) does not change the next pass',
    async (_label, size) => {
      const data = bytes(size, 13);
      for (const spoiled of ['scrubbed', 'transferred'] as const) {
        for (const body of [
          (await multipartEncode({ f: new MultipartParam('f', { fileobj: streamOf(data) }) }, { spool: true })).body,
          (await rawBody(streamOf(data), { spool: true })).body,
        ]) {
          const first: Buffer[] = [];
          for await (const chunk of body) {
            first.push(Buffer.from(chunk));
            if (spoiled === 'scrubbed') chunk.fill(0);
            else transfer(chunk);
          }
          expect((await collect(body)).equals(Buffer.concat(first))).toBe(true);
        }
      }
    },
  );

  it('a part head of 64 KiB or more, scrubbed by a consumer, is whole again on the next pass', async () => {
    const form = await multipartEncode([
      new MultipartParam('f', { value: Buffer.from('x'), filename: 'n'.repeat(70_000) }),
    ]);
    const first: Buffer[] = [];
    for await (const chunk of form.body) {
      first.push(Buffer.from(chunk));
      chunk.fill(0);
    }
    expect((await collect(form.body)).equals(Buffer.concat(first))).toBe(true);
  });

  it('a large stream spooled to memory goes out in copies of a block at most, never all at once', async () => {
    const data = bytes(3 * 1024 * 1024 + 1, 17);
    const { body } = await rawBody(streamOf(data), { spool: { memoryLimit: 4 * 1024 * 1024 } });
    for (let pass = 0; pass < 2; pass++) {
      const sizes: number[] = [];
      const chunks: Buffer[] = [];
      for await (const chunk of body) {
        sizes.push(chunk.length);
        chunks.push(Buffer.from(chunk));
        chunk.fill(0);
      }
      expect(Math.max(...sizes)).toBeLessThanOrEqual(1024 * 1024);
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
    }
  });

  it("a nested body's spool file that the outer body's toBlob() kept goes with the outer body's dispose()", async () => {
    const dir = tempDir();
    const inner = await multipartEncode(
      { f: new MultipartParam('f', { fileobj: streamOf(bytes(2_000_000, 3)) }) },
      {
        spool: { dir },
      },
    );
    const outer = await multipartEncode({ nested: inner });
    const blob = await outer.toBlob();
    expect(blob.size).toBe(outer.contentLength);
    expect(readdirSync(dir)).toHaveLength(1);
    await outer.dispose();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rawBody(stream, { spool }) gets a Content-Length', async () => {
    const body = await rawBody(Readable.from([Buffer.from('abc'), Buffer.from('def')]), { spool: true });
    expect(body.headers['Content-Length']).toBe('6');
    expect((await collect(body.body)).toString()).toBe('abcdef');
  });

  it.each<[string, () => AsyncGenerator<Uint8Array>, object, string]>([
    ['a stream over maxBytes', () => streamOf(bytes(3_000_000)), { maxBytes: 2_000_000 }, 'ERR_SPOOL_LIMIT'],
    [
      'a stream that fails half way',
      () =>
        (async function* () {
          yield bytes(2_000_000);
          throw new Error('disk gone');
        })(),
      {},
      'ERR_SOURCE_FAILED',
    ],
  ])('%s leaves no temporary file behind and fails typed', async (_label, make, limits, code) => {
    const dir = tempDir();
    await expect(
      multipartEncode({ f: new MultipartParam('f', { fileobj: make() }) }, { spool: { dir, ...limits } }),
    ).rejects.toMatchObject({ code, paramName: 'f' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a stream that holds other than its declared filesize is ERR_SIZE_MISMATCH, and leaves nothing', async () => {
    const dir = tempDir();
    await expect(
      multipartEncode(
        { f: new MultipartParam('f', { fileobj: streamOf(bytes(2_000_000)), filesize: 5 }) },
        { spool: { dir } },
      ),
    ).rejects.toMatchObject({
      code: 'ERR_SIZE_MISMATCH',
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([[{ spool: { memoryLimit: -1 } }], [{ spool: { bogus: 1 } }], [{ spool: { dir: 3 } }]])(
    'bad spool options are typed errors: %j',
    async (options) => {
      await expect(multipartEncode({ a: 'b' }, options as never)).rejects.toMatchObject({
        code: expect.stringMatching(/^ERR_INVALID_(OPTION|VALUE)$/),
      });
    },
  );
});

describe('upload({ spool }): a one-shot stream retried and redirected, its temporary file removed when the upload settles', () => {
  it('a 307 and a 503 re-send the spooled stream byte for byte', async () => {
    const { startServer } = await import('../helpers/servers.js');
    const { upload } = await import('../../src/index.js');
    const dir = tempDir();
    const seen: number[] = [];
    let requests = 0;
    const server = await startServer((req, res) => {
      let bytesIn = 0;
      req.on('data', (c: Buffer) => (bytesIn += c.length));
      req.on('end', () => {
        requests++;
        seen.push(bytesIn);
        if (requests === 1) res.writeHead(307, { location: '/again' }).end();
        else if (requests === 2) res.writeHead(503, { 'content-length': 0 }).end();
        else res.writeHead(200, { 'content-length': 2 }).end('ok');
      });
    });
    const data = bytes(3_000_000, 4);
    const response = await upload(
      server.url,
      { f: new MultipartParam('f', { fileobj: streamOf(data) }) },
      { method: 'PUT', spool: { dir }, retry: { limit: 2, backoff: 1 } },
    );
    expect(await response.text()).toBe('ok');
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(1);
    expect(seen[0]).toBeGreaterThan(3_000_000);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('without spool, the same one-shot stream is not retried: a typed error says why', async () => {
    const { startServer } = await import('../helpers/servers.js');
    const { upload } = await import('../../src/index.js');
    const server = await startServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(503, { 'content-length': 0 }).end());
    });
    await expect(
      upload(
        server.url,
        { f: new MultipartParam('f', { fileobj: streamOf(bytes(1000)), filesize: 1000 }) },
        { method: 'PUT', retry: { limit: 2, backoff: 1 } },
      ),
    ).rejects.toMatchObject({
      code: 'ERR_BODY_NOT_REPLAYABLE',
    });
  });
});

describe('no spool file is left behind by an upload that fails or is aborted', () => {
  it.each(['abort', 'reset', 'timeout'] as const)('%s mid-body', async (fate) => {
    const { startServer } = await import('../helpers/servers.js');
    const { upload } = await import('../../src/index.js');
    const dir = tempDir();
    const controller = new AbortController();
    const server = await startServer((req) => {
      let seen = 0;
      req.on('data', (c: Buffer) => {
        seen += c.length;
        if (seen > 1_000_000 && fate === 'abort') controller.abort();
        if (seen > 1_000_000 && fate === 'reset') req.socket.destroy();
      });
    });
    const upload$ = upload(
      server.url,
      { f: new MultipartParam('f', { fileobj: streamOf(bytes(4_000_000, 3)) }) },
      {
        spool: { dir },
        signal: controller.signal,
        retry: 0,
        ...(fate === 'timeout' ? { timeout: 300 } : {}),
      },
    );
    await expect(upload$).rejects.toMatchObject({
      code: fate === 'abort' ? 'ERR_ABORTED' : fate === 'timeout' ? 'ERR_TIMEOUT' : 'ERR_REQUEST_FAILED',
    });
    expect(readdirSync(dir)).toEqual([]);
  });
});
