import { unlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getBodySize, multipartEncode, MultipartParam, rawBody } from '../../src/index.js';
import { collect, parseWithBusboy } from '../helpers/parse.js';
import { tempDir, writeFile } from '../helpers/files.js';

const B = 'XyZzy';
const dir = tempDir();

describe('multipartEncode: byte-exact wire format', () => {
  it('writes text fields without Content-Type, file parts with one, and the close delimiter with CRLF', async () => {
    const path = writeFile(dir, 'photo.jpg', 'JPEGDATA');
    const form = await multipartEncode(
      [
        ['title', 'x'],
        ['title', 'y'],
        await MultipartParam.fromFile('image', path),
        new MultipartParam('blob', { value: Buffer.from([0, 1, 2]), filename: 'b.bin' }),
        new MultipartParam('typed', { value: '{}', filetype: 'application/json' }),
      ],
      { boundary: B },
    );
    const expected =
      `--${B}\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n` +
      `--${B}\r\nContent-Disposition: form-data; name="title"\r\n\r\ny\r\n` +
      `--${B}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\nJPEGDATA\r\n` +
      `--${B}\r\nContent-Disposition: form-data; name="blob"; filename="b.bin"\r\nContent-Type: application/octet-stream\r\n\r\n\u0000\u0001\u0002\r\n` +
      `--${B}\r\nContent-Disposition: form-data; name="typed"\r\nContent-Type: application/json\r\n\r\n{}\r\n` +
      `--${B}--\r\n`;
    const bytes = await collect(form.body);
    expect(bytes.toString('latin1')).toBe(expected);
    expect(form.contentLength).toBe(bytes.length);
    expect(form.headers).toEqual({
      'Content-Type': `multipart/form-data; boundary=${B}`,
      'Content-Length': String(bytes.length),
    });
    expect(form.boundary).toBe(B);
  });

  it('encodes an empty form as the close delimiter alone', async () => {
    const form = await multipartEncode({}, { boundary: B });
    expect((await collect(form.body)).toString()).toBe(`--${B}--\r\n`);
    expect(form.contentLength).toBe(B.length + 6);
  });

  it('escapes names and filenames as browsers do and sends non-ASCII as UTF-8', async () => {
    const form = await multipartEncode(
      [new MultipartParam('a\nb"c', { value: 'v', filename: 'f\r\n"☃.txt' }), ['ünï', 'wert ☃']],
      { boundary: B },
    );
    const text = (await collect(form.body)).toString('utf8');
    expect(text).toContain('name="a%0D%0Ab%22c"; filename="f%0D%0A%22☃.txt"\r\nContent-Type: text/plain\r\n');
    expect(text).toContain('name="ünï"\r\n\r\nwert ☃\r\n');
    expect(form.contentLength).toBe(Buffer.byteLength(text));
  });

  it('guesses a file type from the filename that is sent, else application/octet-stream', async () => {
    const path = writeFile(dir, 'data.bin.unknownext', 'x');
    const renamed = await MultipartParam.fromFile('f', path, { filename: 'renamed.png' });
    const unknown = await MultipartParam.fromFile('g', path);
    const explicit = await MultipartParam.fromFile('h', path, { filetype: 'text/x-custom' });
    expect([renamed.filetype, unknown.filetype, explicit.filetype]).toEqual([
      'image/png',
      'application/octet-stream',
      'text/x-custom',
    ]);
  });

  it('accepts a mapping with arrays, a Map, pairs and a WHATWG FormData alike', async () => {
    const fd = new FormData();
    fd.append('a', '1');
    fd.append('a', '2');
    fd.append('f', new File(['file body'], 'n.txt', { type: 'text/plain' }));
    const expected = [
      { name: 'a', filename: undefined, type: 'text/plain', data: Buffer.from('1') },
      { name: 'a', filename: undefined, type: 'text/plain', data: Buffer.from('2') },
      { name: 'f', filename: 'n.txt', type: 'text/plain', data: Buffer.from('file body') },
    ];
    const file = new File(['file body'], 'n.txt', { type: 'text/plain' });
    for (const input of [
      fd,
      { a: ['1', '2'], f: file },
      new Map<string, unknown>([
        ['a', ['1', '2']],
        ['f', file],
      ]),
      [
        ['a', '1'],
        ['a', '2'],
        ['f', file],
      ],
    ]) {
      const form = await multipartEncode(input as never);
      expect(await parseWithBusboy(form.headers, await collect(form.body))).toEqual(expected);
    }
  });

  it('sends numbers, bigints and booleans as their text', async () => {
    const form = await multipartEncode({ n: 3.5, big: 10n, yes: true }, { boundary: B });
    const parts = await parseWithBusboy(form.headers, await collect(form.body));
    expect(parts.map((p) => p.data.toString())).toEqual(['3.5', '10', 'true']);
  });

  it('computes the length without opening any file', async () => {
    const path = writeFile(dir, 'gone.txt', 'twelve bytes');
    const param = await MultipartParam.fromFile('f', path);
    unlinkSync(path); // opening it now would fail
    const form = await multipartEncode({ f: param }, { boundary: B });
    expect(form.contentLength).toBe(getBodySize([param], B));
    expect(getBodySize([param], B)).toBe(param.getSize(B) + B.length + 6);
    await expect(collect(form.body)).rejects.toMatchObject({ code: 'ERR_FILE_UNREADABLE', paramName: 'f' });
  });

  it('re-iterates to identical bytes', async () => {
    const path = writeFile(dir, 'again.txt', 'same bytes every time');
    const form = await multipartEncode({
      f: await MultipartParam.fromFile('f', path),
      b: new Blob(['blob']),
      t: 'text',
    });
    const first = await collect(form.body);
    const second = await collect(form.body);
    expect(second.equals(first)).toBe(true);
    expect(form.body.replayable).toBe(true);
  });

  it('rejects an invalid caller boundary, including an empty one', async () => {
    for (const boundary of ['', 'x'.repeat(71), 'bad%', 'trailing ']) {
      await expect(multipartEncode({ a: 'b' }, { boundary })).rejects.toMatchObject({ code: 'ERR_INVALID_BOUNDARY' });
    }
  });

  it('rejects a value that holds the delimiter at its start or after a line feed', async () => {
    for (const value of [`--${B}`, `x\n--${B}`, `x\r\n--${B}--`, Buffer.from(`a\r\n--${B}`)]) {
      await expect(multipartEncode({ v: value }, { boundary: B })).rejects.toMatchObject({
        code: 'ERR_BOUNDARY_IN_DATA',
        paramName: 'v',
      });
    }
    // not at a line start: harmless, and sent as is
    const ok = await multipartEncode({ v: `x--${B}` }, { boundary: B });
    expect((await collect(ok.body)).toString()).toContain(`x--${B}\r\n`);
  });

  it('fails the stream when a file holds the caller-chosen delimiter, even across read blocks', async () => {
    const path = writeFile(
      dir,
      'evil.txt',
      `line one\r\n--${B}\r\nContent-Disposition: form-data; name="injected"\r\n\r\n`,
    );
    for (const blockSize of [1, 3, 7, 1024]) {
      const form = await multipartEncode(
        { f: await MultipartParam.fromFile('f', path) },
        { boundary: B, blockSize, syncReadLimit: 0 },
      );
      await expect(collect(form.body)).rejects.toMatchObject({ code: 'ERR_BOUNDARY_IN_DATA', paramName: 'f' });
    }
    const atStart = writeFile(dir, 'evil2.txt', `--${B}--`);
    const form = await multipartEncode(
      { f: await MultipartParam.fromFile('f', atStart) },
      { boundary: B, blockSize: 2, syncReadLimit: 0 },
    );
    await expect(collect(form.body)).rejects.toMatchObject({ code: 'ERR_BOUNDARY_IN_DATA' });
    const whole = await multipartEncode({ f: await MultipartParam.fromFile('f', path) }, { boundary: B });
    await expect(collect(whole.body)).rejects.toMatchObject({ code: 'ERR_BOUNDARY_IN_DATA' });
  });

  it('a non-positive block size and a negative sync-read limit are bad options', async () => {
    await expect(multipartEncode({ a: 'b' }, { blockSize: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(multipartEncode({ a: 'b' }, { syncReadLimit: -1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
  });
});

describe('progress', () => {
  it('reports the whole body as chunks are consumed, ending at current === total, and each part on its own', async () => {
    const path = writeFile(dir, 'progress.bin', Buffer.alloc(300_000, 7));
    const file = await MultipartParam.fromFile('file', path, {
      cb: (param, current, total) => partCalls.push([param.name, current, total]),
    });
    const partCalls: Array<[string | null, number, number | undefined]> = [];
    const bodyCalls: Array<[string | null | undefined, number, number | undefined]> = [];
    const form = await multipartEncode(
      { title: 'hello', file },
      { blockSize: 100_000, onProgress: (param, current, total) => bodyCalls.push([param?.name, current, total]) },
    );
    let taken = 0;
    for await (const chunk of form.body) {
      taken += chunk.length;
      // the chunk just handed over is not reported before the consumer asks for more
      expect(bodyCalls.at(-1)?.[1] ?? 0).toBeLessThan(taken);
    }
    expect(bodyCalls.at(-1)).toEqual(['file', form.contentLength, form.contentLength]);
    const currents = bodyCalls.map((c) => c[1]);
    expect(currents).toEqual([...currents].sort((a, b) => a - b));
    expect(partCalls.at(-1)).toEqual(['file', file.getSize(form.boundary), file.getSize(form.boundary)]);
    expect(partCalls.length).toBeGreaterThanOrEqual(3);
  });

  it('reports an empty raw body as complete', async () => {
    const calls: number[] = [];
    const raw = await rawBody(new Uint8Array(0), { onProgress: (_p, current) => calls.push(current) });
    expect(await collect(raw.body)).toHaveLength(0);
    expect(calls).toEqual([0]);
  });
});

describe('rawBody', () => {
  it('sends a file as the whole body with its guessed type and exact length', async () => {
    const path = writeFile(dir, 'raw.json', '{"a":1}');
    const raw = await rawBody(path);
    expect(raw.headers).toEqual({ 'Content-Type': 'application/json', 'Content-Length': '7' });
    expect((await collect(raw.body)).toString()).toBe('{"a":1}');
    expect((await collect(raw.body)).toString()).toBe('{"a":1}');
  });

  it('takes bytes, Blobs and sized streams, with a type given or defaulted', async () => {
    const fromBytes = await rawBody(Buffer.from('abc'));
    expect(fromBytes.headers['Content-Type']).toBe('application/octet-stream');
    const fromBlob = await rawBody(new Blob(['abcd'], { type: 'text/csv' }));
    expect(fromBlob.headers).toEqual({ 'Content-Type': 'text/csv', 'Content-Length': '4' });
    const stream = await rawBody(
      (async function* () {
        yield Buffer.from('xy');
      })(),
      { size: 2, type: 'text/plain' },
    );
    expect(stream.contentLength).toBe(2);
    expect((await collect(stream.body)).toString()).toBe('xy');
    const unsized = await rawBody(
      (async function* () {
        yield Buffer.from('xy');
      })(),
    );
    expect(unsized.contentLength).toBeUndefined();
    expect(unsized.headers).toEqual({ 'Content-Type': 'application/octet-stream' });
  });

  describe('a byte range of a Blob-like that lies is refused, typed, never another range sent', () => {
    /** A Blob-like of "abcdef" by shape, whose `slice` a row replaces. */
    const blobLike = (slice: (from?: number, to?: number) => unknown) => {
      const real = new Blob(['abcdef']);
      return { size: 6, type: '', stream: () => real.stream(), arrayBuffer: () => real.arrayBuffer(), slice };
    };

    it.each([
      ['its slice is the whole Blob', () => new Blob(['abcdef']), 'ERR_SIZE_MISMATCH'],
      [
        'its slice is one byte short',
        (from = 0, to = 0) => new Blob(['abcdef'.slice(from, to - 1)]),
        'ERR_SIZE_MISMATCH',
      ],
      [
        'its slice() throws',
        () => {
          throw new Error('no slicing');
        },
        'ERR_SOURCE_FAILED',
      ],
    ])('%s', async (_label, slice, code) => {
      await expect(rawBody(blobLike(slice) as never, { start: 1, end: 3 })).rejects.toMatchObject({
        code,
        paramName: 'body',
      });
    });

    it('an honest slice is sent as the range', async () => {
      const raw = await rawBody(blobLike((from, to) => new Blob(['abcdef'.slice(from, to)])) as never, {
        start: 1,
        end: 3,
      });
      expect(raw.contentLength).toBe(2);
      expect((await collect(raw.body)).toString()).toBe('bc');
    });
  });
});
