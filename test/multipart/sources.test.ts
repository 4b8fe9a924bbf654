import { createReadStream, openAsBlob, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { multipartEncode, MultipartParam } from '../../src/index.js';
import { collect, parseWithBusboy } from '../helpers/parse.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';

const dir = tempDir();

async function roundTrip(fileobj: MultipartParam | ConstructorParameters<typeof MultipartParam>[1]) {
  const param = fileobj instanceof MultipartParam ? fileobj : new MultipartParam('f', fileobj);
  const form = await multipartEncode([param]);
  const body = await collect(form.body);
  if (form.contentLength !== undefined) expect(body.length).toBe(form.contentLength);
  const [part] = await parseWithBusboy(form.headers, body);
  return { form, part: part! };
}

describe('every kind of source streams its bytes exactly', () => {
  const data = bytes(200_000, 7);

  it('a Blob, a File and fs.openAsBlob', async () => {
    const path = writeFile(dir, 'blob.bin', data);
    for (const blob of [new Blob([data]), new File([data], 'x.bin'), await openAsBlob(path)]) {
      const { form, part } = await roundTrip({ fileobj: blob });
      expect(part.data.equals(data)).toBe(true);
      expect(form.contentLength).toBeDefined();
    }
  });

  it('a Node Readable, a web ReadableStream and an async iterable, with a size given', async () => {
    const sources = [
      Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
      new Blob([data]).stream(),
      (async function* () {
        yield data.subarray(0, 5);
        yield data.subarray(5);
      })(),
    ];
    for (const fileobj of sources) {
      const { part } = await roundTrip({ fileobj, filesize: data.length, filename: 's.bin' });
      expect(part.data.equals(data)).toBe(true);
    }
  });

  it('an fs.ReadStream knows its size from stat, like poster did for file objects', async () => {
    const path = writeFile(dir, 'rs.bin', data);
    const unread = createReadStream(path);
    expect(new MultipartParam('f', { fileobj: unread }).size).toBe(data.length);
    unread.destroy();
    const slice = new MultipartParam('f', { fileobj: createReadStream(path, { start: 10, end: 19 }) });
    expect(slice.size).toBe(10);
    const { part } = await roundTrip(slice);
    expect(part.data.equals(data.subarray(10, 20))).toBe(true);
  });

  it('a stream of unknown size has no Content-Length and still encodes', async () => {
    const { form, part } = await roundTrip({ fileobj: Readable.from([data]) });
    expect(form.contentLength).toBeUndefined();
    expect(form.headers['Content-Length']).toBeUndefined();
    expect(part.data.equals(data)).toBe(true);
  });

  it('a stream yielding strings is sent as UTF-8; one yielding objects fails', async () => {
    const { part } = await roundTrip({ fileobj: Readable.from(['☃']), filesize: 3 });
    expect(part.data.toString()).toBe('☃');
    const form = await multipartEncode([new MultipartParam('o', { fileobj: Readable.from([{ a: 1 }]) })]);
    await expect(collect(form.body)).rejects.toMatchObject({ code: 'ERR_INVALID_VALUE', paramName: 'o' });
  });
});

describe('a one-shot stream', () => {
  it('says so when iterated again, before yielding a byte', async () => {
    const form = await multipartEncode({ s: Readable.from([Buffer.from('abc')]), t: 'text' });
    await collect(form.body);
    expect(form.body.replayable).toBe(false);
    const seen: Buffer[] = [];
    await expect(
      (async () => {
        for await (const chunk of form.body) seen.push(chunk);
      })(),
    ).rejects.toMatchObject({ code: 'ERR_SOURCE_CONSUMED', paramName: 's' });
    expect(seen).toHaveLength(0);
  });
});

describe('a stream whose length disagrees with its declared size fails, never over-sending', () => {
  it.each([
    ['longer', 12],
    ['shorter', 8],
  ])('%s than declared', async (_label, actual) => {
    const form = await multipartEncode([
      new MultipartParam('s', { fileobj: Readable.from([Buffer.alloc(actual, 1)]), filesize: 10 }),
    ]);
    let sent = 0;
    await expect(
      (async () => {
        for await (const chunk of form.body) sent += chunk.length;
      })(),
    ).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 's' });
    expect(sent).toBeLessThan(form.contentLength!);
  });

  it('a file-backed Blob whose file changed fails with ERR_FILE_UNREADABLE', async () => {
    const path = writeFile(dir, 'changing-blob.bin', 'original');
    const blob = await openAsBlob(path);
    writeFileSync(path, 'changed and longer');
    const form = await multipartEncode([new MultipartParam('b', { fileobj: blob })]);
    await expect(collect(form.body)).rejects.toMatchObject({ code: 'ERR_FILE_UNREADABLE', paramName: 'b' });
  });
});
