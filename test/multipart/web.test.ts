import { appendFileSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { File as NodeFile, FormData as NodeFormData } from 'formdata-node';
import { describe, expect, it } from 'vitest';
import { multipartEncode, MultipartError, MultipartParam, rawBody } from '../../src/index.js';
import { bytes, openFilesUnder, tempDir, writeFile } from '../helpers/files.js';
import { collect, parseWithBusboy } from '../helpers/parse.js';
import { json, startServer } from '../helpers/servers.js';

const dir = tempDir();

/** Answers what arrived; /redirect answers 307 to /upload first. */
const server = await startServer((req, res) => {
  if (req.url === '/redirect') {
    req.resume();
    req.on('end', () => {
      res.writeHead(307, { location: '/upload' });
      res.end();
    });
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    json(res, 200, {
      length: req.headers['content-length'] ?? null,
      chunked: req.headers['transfer-encoding'] ?? null,
      type: req.headers['content-type'],
      body: body.toString('base64'),
    });
  });
});

async function form() {
  const path = writeFile(dir, `file-${Math.random()}.bin`, bytes(300_000, 7));
  return multipartEncode({
    note: 'ü',
    file: await MultipartParam.fromFile('file', path),
    raw: new Uint8Array([1, 2, 3]),
  });
}

describe('toBlob(): a Blob of the whole body, nothing read up front', () => {
  it("has the body's bytes and size, and the Content-Type as its type", async () => {
    const encoded = await form();
    const blob = await encoded.toBlob();
    expect(blob.size).toBe(encoded.contentLength);
    expect(blob.type).toBe(encoded.headers['Content-Type']);
    expect(Buffer.from(await blob.arrayBuffer()).equals(await collect(encoded.body))).toBe(true);
  });

  it('fetch sends it with an exact Content-Length, no duplex, and replays it on a 307', async () => {
    const encoded = await form();
    const expected = await collect(encoded.body);
    const response = await fetch(`${server.origin}/redirect`, {
      method: 'POST',
      body: await encoded.toBlob(),
      headers: encoded.headers,
    });
    const seen = (await response.json()) as { length: string; chunked: string | null; type: string; body: string };
    expect(response.redirected).toBe(true);
    expect(seen).toMatchObject({
      length: String(expected.length),
      chunked: null,
      type: encoded.headers['Content-Type'],
    });
    expect(Buffer.from(seen.body, 'base64').equals(expected)).toBe(true);
  });

  it('a mixed-case boundary, which the Blob constructor would lower-case, leaves the type empty rather than wrong', async () => {
    const encoded = await multipartEncode({ a: 'b' }, { boundary: 'MixedCase' });
    expect((await encoded.toBlob()).type).toBe('');
    const generated = await multipartEncode({ a: 'b' });
    expect((await generated.toBlob()).type).toBe(generated.headers['Content-Type']);
  });

  it('a file changed after the Blob was made fails to read, never sends other bytes', async () => {
    const path = writeFile(dir, 'changing.txt', 'before');
    const encoded = await multipartEncode({ f: await MultipartParam.fromFile('f', path) });
    const blob = await encoded.toBlob();
    appendFileSync(path, ' and after');
    await expect(blob.arrayBuffer()).rejects.toThrow();
  });

  it('a byte range of a file (rawBody with start and end) is that slice', async () => {
    const path = writeFile(dir, 'range.bin', bytes(10_000, 3));
    const slice = await rawBody(path, { start: 1000, end: 4000 });
    const blob = await slice.toBlob();
    expect(blob.size).toBe(3000);
    expect(Buffer.from(await blob.arrayBuffer()).equals(bytes(10_000, 3).subarray(1000, 4000))).toBe(true);
  });

  it('a one-shot stream cannot be in a Blob: ERR_BLOB_UNSUPPORTED names the field', async () => {
    const encoded = await multipartEncode({
      s: new MultipartParam('s', { fileobj: Readable.from([Buffer.from('x')]), filesize: 1 }),
    });
    await expect(encoded.toBlob()).rejects.toMatchObject({ code: 'ERR_BLOB_UNSUPPORTED', paramName: 's' });
    await expect(encoded.toBlob()).rejects.toBeInstanceOf(MultipartError);
  });

  it('a chosen boundary is checked in file data too', async () => {
    const path = writeFile(
      dir,
      'holds-delimiter.txt',
      'x\r\n--Chosen\r\nContent-Disposition: form-data; name="role"\r\n\r\nadmin',
    );
    const encoded = await multipartEncode({ doc: await MultipartParam.fromFile('doc', path) }, { boundary: 'Chosen' });
    await expect(encoded.toBlob()).rejects.toMatchObject({ code: 'ERR_BOUNDARY_IN_DATA', paramName: 'doc' });
  });

  it('a file changed or removed since it was measured is refused, typed', async () => {
    const changed = writeFile(dir, 'changed.txt', 'original');
    const encoded = await multipartEncode({ f: await MultipartParam.fromFile('f', changed) });
    writeFile(dir, 'changed.txt', 'REPLACED');
    await expect(encoded.toBlob()).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'f' });
    const gone = writeFile(dir, 'gone.txt', 'here');
    const encoded2 = await multipartEncode({ f: await MultipartParam.fromFile('f', gone) });
    rmSync(gone);
    await expect(encoded2.toBlob()).rejects.toMatchObject({ code: 'ERR_FILE_UNREADABLE', paramName: 'f' });
  });
});

describe('toBlob() of bytes whose buffer changed after encoding: the declared bytes or ERR_SIZE_MISMATCH', () => {
  const ResizableBuffer = ArrayBuffer as unknown as new (
    length: number,
    options: { maxByteLength: number },
  ) => ArrayBuffer & { resize(length: number): void };
  const GrowableShared = SharedArrayBuffer as unknown as new (
    length: number,
    options: { maxByteLength: number },
  ) => SharedArrayBuffer & { grow(length: number): void };
  const changes: Record<string, () => { data: Uint8Array; change: () => void }> = {
    'transferred (detached)': () => {
      const data = new Uint8Array(70_000);
      return { data, change: () => void structuredClone(data.buffer, { transfer: [data.buffer as ArrayBuffer] }) };
    },
    'shrunk (a resizable ArrayBuffer)': () => {
      const buffer = new ResizableBuffer(8, { maxByteLength: 64 });
      return { data: new Uint8Array(buffer), change: () => buffer.resize(2) };
    },
  };
  const encoders = {
    multipartEncode: (data: Uint8Array) => multipartEncode({ x: data }),
    rawBody: (data: Uint8Array) => rawBody(data),
  };
  for (const [what, make] of Object.entries(changes)) {
    for (const [name, encode] of Object.entries(encoders)) {
      it(`bytes ${what} after ${name}: ERR_SIZE_MISMATCH naming the field, as the body does`, async () => {
        const { data, change } = make();
        const encoded = await encode(data);
        change();
        const mismatch = { name: 'MultipartError', code: 'ERR_SIZE_MISMATCH' };
        await expect(encoded.toBlob()).rejects.toMatchObject(mismatch);
        await expect(collect(encoded.body)).rejects.toMatchObject(mismatch);
      });
    }
  }

  it.each(Object.keys(encoders) as Array<keyof typeof encoders>)(
    'a growable SharedArrayBuffer grown after %s: the Blob holds the declared bytes only',
    async (name) => {
      const shared = new GrowableShared(4, { maxByteLength: 64 });
      const data = new Uint8Array(shared);
      data.set([1, 2, 3, 4]);
      const encoded = await encoders[name](data);
      shared.grow(32);
      const blob = await encoded.toBlob();
      expect(blob.size).toBe(encoded.contentLength);
      expect(Buffer.from(await blob.arrayBuffer()).equals(await collect(encoded.body))).toBe(true);
    },
  );
});

describe('toBlob() of a Blob subclass whose size lies: ERR_SIZE_MISMATCH, never a Blob whose size is not its bytes', () => {
  it.each([1, 10])('a size getter that says %i of 3 bytes', async (lie) => {
    class Lying extends Blob {}
    Object.defineProperty(Lying.prototype, 'size', { get: () => lie });
    const encoded = await multipartEncode({ a: new Lying(['abc']) });
    await expect(encoded.toBlob()).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'a' });
    await expect(collect(encoded.body)).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'a' });
  });

  it('a subclass that says its size truly is sent whole, its bytes counted as its size', async () => {
    class Named extends Blob {}
    const trueSize = Object.getOwnPropertyDescriptor(Blob.prototype, 'size')!.get!;
    Object.defineProperty(Named.prototype, 'size', {
      get(this: Blob) {
        return trueSize.call(this) as number;
      },
    });
    const encoded = await multipartEncode({ a: new Named(['abc']) });
    const blob = await encoded.toBlob();
    expect(blob.size).toBe(encoded.contentLength);
    expect(Buffer.from(await blob.arrayBuffer()).equals(await collect(encoded.body))).toBe(true);
  });
});

describe('toReadableStream(): a web stream over the same lazy walk', () => {
  it('reads nothing before it is asked, and cancel closes the open file', async () => {
    const path = writeFile(dir, 'lazy.bin', bytes(3_000_000, 2));
    let pulled = 0;
    async function* counted() {
      pulled++;
      yield Buffer.from('x');
    }
    const encoded = await multipartEncode([
      ['s', new MultipartParam('s', { fileobj: counted(), filesize: 1 })],
      ['f', await MultipartParam.fromFile('f', path)],
    ]);
    const stream = encoded.toReadableStream();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pulled).toBe(0);
    const reader = stream.getReader();
    let read = 0;
    while (openFilesUnder(dir).length === 0) read += (await reader.read()).value!.length;
    expect(read).toBeGreaterThan(0);
    await reader.cancel();
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it("yields the body's bytes, which fetch sends with duplex", async () => {
    const encoded = await form();
    const response = await fetch(server.url, {
      method: 'POST',
      body: encoded.toReadableStream(),
      headers: encoded.headers,
      duplex: 'half',
    } as RequestInit);
    const seen = (await response.json()) as { body: string };
    expect(Buffer.from(seen.body, 'base64').equals(await collect(encoded.body))).toBe(true);
  });
});

describe('File-likes by shape, and the shortest spellings', () => {
  it("formdata-node's File and FormData work like Node's", async () => {
    const file = new NodeFile(['hello'], 'hi.txt', { type: 'text/plain' });
    const fd = new NodeFormData();
    fd.append('a', 'b');
    fd.append('file', file);
    for (const params of [{ file }, fd as unknown as FormData]) {
      const encoded = await multipartEncode(params);
      const parts = await parseWithBusboy(encoded.headers, await collect(encoded.body));
      expect(parts.at(-1)).toMatchObject({
        name: 'file',
        filename: 'hi.txt',
        type: 'text/plain',
        data: Buffer.from('hello'),
      });
    }
  });

  it('[name, value, filename] makes a file part with that filename and a type guessed from it', async () => {
    const encoded = await multipartEncode([
      ['photo', Buffer.from([1, 2]), 'photo.png'],
      ['note', 'text', 'note.txt'],
      ['n', 'plain'],
    ]);
    const parts = await parseWithBusboy(encoded.headers, await collect(encoded.body));
    expect(parts.map((p) => [p.name, p.filename, p.type])).toEqual([
      ['photo', 'photo.png', 'image/png'],
      ['note', 'note.txt', 'text/plain'],
      ['n', undefined, 'text/plain'],
    ]);
  });

  it('a value that cannot be sent says what to write instead', async () => {
    await expect(multipartEncode({ x: { path: 'a.txt' } as never })).rejects.toThrow(
      /MultipartParam\.fromFile\(name, path\)/,
    );
  });
});
