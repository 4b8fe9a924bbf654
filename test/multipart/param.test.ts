import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { brandOf } from '../../src/common/errors.js';
import { isMultipartParam } from '../../src/multipart/param.js';
import { MultipartError, multipartEncode, MultipartParam } from '../../src/index.js';
import { collect } from '../helpers/parse.js';
import { tempDir, writeFile } from '../helpers/files.js';

const B = 'param-boundary';
const dir = tempDir();

describe('new MultipartParam: bad arguments throw at once, with a code and the field name', () => {
  it.each([
    [
      'value and fileobj',
      () => new MultipartParam('f', { value: 'x', fileobj: new Blob(['y']) }),
      'ERR_VALUE_AND_FILEOBJ',
    ],
    ['a non-string name', () => new MultipartParam(42 as unknown as string), 'ERR_INVALID_NAME'],
    [
      'a type with CR/LF',
      () => new MultipartParam('f', { value: 'x', filetype: 'text/plain\r\nX-Evil: 1' }),
      'ERR_INVALID_HEADER_VALUE',
    ],
    [
      'a type with a bare LF',
      () => new MultipartParam('f', { value: 'x', filetype: 'a\nb' }),
      'ERR_INVALID_HEADER_VALUE',
    ],
    [
      'a value of the wrong kind',
      () => new MultipartParam('f', { value: {} as unknown as string }),
      'ERR_INVALID_VALUE',
    ],
    [
      'a path given as fileobj',
      () => new MultipartParam('f', { fileobj: '/etc/passwd' as never }),
      'ERR_INVALID_VALUE',
    ],
    [
      'a negative filesize',
      () => new MultipartParam('f', { fileobj: Readable.from([]), filesize: -1 }),
      'ERR_INVALID_OPTION',
    ],
    [
      'a filesize that disagrees with the value',
      () => new MultipartParam('f', { value: 'abc', filesize: 2 }),
      'ERR_SIZE_MISMATCH',
    ],
    [
      'a filesize that disagrees with a Blob',
      () => new MultipartParam('f', { fileobj: new Blob(['ab']), filesize: 3 }),
      'ERR_SIZE_MISMATCH',
    ],
    ['a non-string filename', () => new MultipartParam('f', { value: 'x', filename: 3 as never }), 'ERR_INVALID_VALUE'],
  ])('%s', (_label, make, code) => {
    let error: unknown;
    try {
      make();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MultipartError);
    expect((error as MultipartError).code).toBe(code);
    if (code !== 'ERR_INVALID_NAME') expect((error as MultipartError).paramName).toBe('f');
    expect((error as Error).message).toMatch(code === 'ERR_INVALID_NAME' ? /must be a string/ : /^field "f": /);
  });
});

describe('options are read once: a getter that answers otherwise the second time changes nothing', () => {
  /** An options object whose `key` gives `first` when read first, `later` every time after. */
  function changing<T>(key: string, first: T, later: T, rest: object = {}): object {
    let reads = 0;
    return Object.defineProperty({ ...rest }, key, { enumerable: true, get: () => (reads++ === 0 ? first : later) });
  }

  it('a filetype checked clean cannot inject a header line when read again', async () => {
    const options = changing('filetype', 'text/plain', 'text/plain\r\nX-Injected: 1', { value: 'x' });
    const param = new MultipartParam('a', options as never);
    const form = await multipartEncode([param], { boundary: B });
    const text = (await collect(form.body)).toString();
    expect(text).not.toContain('X-Injected');
    expect(param.filetype).toBe('text/plain');
    expect(Buffer.byteLength(text)).toBe(form.contentLength);
  });

  it('a filesize checked whole cannot become -1 or 1.5 in the Content-Length', async () => {
    for (const later of [-1, 1.5]) {
      const options = changing('filesize', 3, later, { fileobj: Readable.from([Buffer.from('abc')]) });
      const param = new MultipartParam('a', options as never);
      expect(param.size).toBe(3);
      const form = await multipartEncode([param], { boundary: B });
      expect(Number.isSafeInteger(form.contentLength)).toBe(true);
      expect((await collect(form.body)).length).toBe(form.contentLength);
    }
  });
});

describe('file parts and plain fields', () => {
  it('a filename or a fileobj makes a file part with a Content-Type', () => {
    expect(new MultipartParam('a', { value: 'x' })).toMatchObject({ isFile: false, filetype: undefined });
    expect(new MultipartParam('a', { value: Buffer.from('x') })).toMatchObject({ isFile: false, filetype: undefined });
    expect(new MultipartParam('a', { value: 'x', filename: 'a.html' })).toMatchObject({
      isFile: true,
      filetype: 'text/html',
    });
    expect(new MultipartParam('a', { fileobj: Readable.from([]) })).toMatchObject({
      isFile: true,
      filetype: 'application/octet-stream',
      filename: undefined,
    });
  });

  it('a File lends its name and type; a nameless Blob is named "blob", as browsers send it, and lends its type', () => {
    const file = new MultipartParam('a', { fileobj: new File(['x'], 'pic.gif', { type: 'image/gif' }) });
    expect(file).toMatchObject({ filename: 'pic.gif', filetype: 'image/gif', size: 1 });
    const blob = new MultipartParam('b', { fileobj: new Blob(['xy'], { type: 'text/csv' }) });
    expect(blob).toMatchObject({ filename: 'blob', filetype: 'text/csv', size: 2 });
  });
});

describe('MultipartParam.fromFile', () => {
  it('takes size from stat, filename from the basename, type from the name; all overridable', async () => {
    const path = writeFile(dir, 'report.pdf', 'x'.repeat(123));
    const param = await MultipartParam.fromFile('doc', path);
    expect(param).toMatchObject({
      name: 'doc',
      filename: 'report.pdf',
      filetype: 'application/pdf',
      size: 123,
      isFile: true,
    });
    const other = await MultipartParam.fromFile('doc', path, { filename: 'x.txt', filetype: 'application/x-thing' });
    expect(other).toMatchObject({ filename: 'x.txt', filetype: 'application/x-thing' });
  });

  it('fails clearly for a missing file or a directory', async () => {
    await expect(MultipartParam.fromFile('f', `${dir}/missing.txt`)).rejects.toMatchObject({
      code: 'ERR_FILE_UNREADABLE',
      paramName: 'f',
      message: expect.stringContaining('missing.txt'),
    });
    await expect(MultipartParam.fromFile('f', dir)).rejects.toMatchObject({ code: 'ERR_FILE_UNREADABLE' });
  });
});

describe('MultipartParam.fromParams', () => {
  it('mixes pairs and params in a list, keeping order and duplicates', () => {
    const p = new MultipartParam('p', { value: '1' });
    const params = MultipartParam.fromParams([['a', 'x'], p, ['a', 'y'], ['p', p]]);
    expect(params.map((x) => x.name)).toEqual(['a', 'p', 'a', 'p']);
    expect(params[1]).toBe(p);
  });

  it('a param under a mapping key or in a pair must carry that name', () => {
    const p = new MultipartParam('right', { value: '1' });
    expect(() => MultipartParam.fromParams({ wrong: p })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_PARAMS', paramName: 'wrong' }),
    );
    expect(() => MultipartParam.fromParams([['wrong', p]])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_PARAMS' }),
    );
    expect(MultipartParam.fromParams({ right: [p, 'two'] }).map((x) => x.name)).toEqual(['right', 'right']);
  });

  it('rejects what it cannot send, naming the field', () => {
    expect(() => MultipartParam.fromParams({ a: null as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_VALUE', paramName: 'a' }),
    );
    expect(() => MultipartParam.fromParams({ a: undefined as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_VALUE' }),
    );
    expect(() => MultipartParam.fromParams('a=b' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_PARAMS' }),
    );
    expect(() => MultipartParam.fromParams([['a']] as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_PARAMS' }),
    );
    expect(() => MultipartParam.fromParams([[1, 'x']] as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_NAME' }),
    );
  });
});

describe('encode, encodeHdr, iterEncode, getSize, reset', () => {
  it('encode gives the whole part for in-memory data', () => {
    const param = new MultipartParam('n', { value: 'v☃' });
    const part = param.encode(B);
    expect(part.toString()).toBe(`--${B}\r\nContent-Disposition: form-data; name="n"\r\n\r\nv☃\r\n`);
    expect(param.getSize(B)).toBe(part.length);
    expect(param.encodeHdr(B)).toBe(`--${B}\r\nContent-Disposition: form-data; name="n"\r\n\r\n`);
  });

  it('encode refuses to read a file or stream whole; iterEncode streams it', async () => {
    const path = writeFile(dir, 'enc.txt', 'file data');
    const param = await MultipartParam.fromFile('f', path);
    expect(() => param.encode(B)).toThrow(expect.objectContaining({ code: 'ERR_NOT_IN_MEMORY', paramName: 'f' }));
    const bytes = await collect(param.iterEncode(B, 2));
    expect(bytes.toString()).toBe(`${param.encodeHdr(B)}file data\r\n`);
    expect(bytes.length).toBe(param.getSize(B));
  });

  it('encode and iterEncode refuse data holding the delimiter', async () => {
    const param = new MultipartParam('v', { value: `x\r\n--${B}` });
    expect(() => param.encode(B)).toThrow(expect.objectContaining({ code: 'ERR_BOUNDARY_IN_DATA' }));
    const path = writeFile(dir, 'enc-evil.txt', `a\n--${B}`);
    const file = await MultipartParam.fromFile('f', path);
    await expect(collect(file.iterEncode(B))).rejects.toMatchObject({ code: 'ERR_BOUNDARY_IN_DATA' });
  });

  it('iterEncode() checks its boundary like every sibling', () => {
    expect(() => new MultipartParam('a', { value: 'x' }).iterEncode('b\r\nX-Injected: 1')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_BOUNDARY' }),
    );
  });

  it('getSize fails clearly for a stream of unknown size, and encodeHdr checks the boundary', () => {
    const param = new MultipartParam('s', { fileobj: Readable.from([Buffer.from('x')]) });
    expect(param.size).toBeUndefined();
    expect(() => param.getSize(B)).toThrow(expect.objectContaining({ code: 'ERR_SIZE_UNKNOWN', paramName: 's' }));
    expect(() => param.encodeHdr('bad boundary ')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_BOUNDARY' }));
  });

  it('reset is fine for replayable data and fails for a stream already read', async () => {
    const stream = new MultipartParam('s', { fileobj: Readable.from([Buffer.from('abc')]), filesize: 3 });
    stream.reset();
    await collect(stream.iterEncode(B));
    expect(stream.replayable).toBe(false);
    expect(() => stream.reset()).toThrow(expect.objectContaining({ code: 'ERR_SOURCE_CONSUMED', paramName: 's' }));
    const text = new MultipartParam('t', { value: 'x' });
    await collect(text.iterEncode(B));
    expect(() => text.reset()).not.toThrow();
  });

  it.each([
    ['a 300 KB file', async () => MultipartParam.fromFile('f', writeFile(dir, 'blocks.bin', Buffer.alloc(300_000, 1)))],
    ['a 300 KB Blob', async () => new MultipartParam('f', { fileobj: new Blob([Buffer.alloc(300_000, 2)]) })],
    ['300 KB of bytes', async () => new MultipartParam('f', { value: Buffer.alloc(300_000, 3) })],
    ['a 100 KB string', async () => new MultipartParam('f', { value: 'é'.repeat(50_000) })],
  ])(
    "iterEncode(boundary, blockSize) yields no chunk larger than blockSize (poster's iter_encode): %s",
    async (_label, make) => {
      const param = await make();
      const sizes: number[] = [];
      const chunks: Buffer[] = [];
      for await (const chunk of param.iterEncode(B, 16_384)) {
        sizes.push(chunk.length);
        chunks.push(chunk);
      }
      expect(Math.max(...sizes)).toBeLessThanOrEqual(16_384);
      expect(Buffer.concat(chunks).length).toBe(param.getSize(B));
      expect(Buffer.concat(chunks).equals(await collect(param.iterEncode(B)))).toBe(true);
    },
  );

  it('iterEncode reports the part through cb, ending at its size', async () => {
    const calls: number[] = [];
    const param = new MultipartParam('t', {
      value: 'x'.repeat(100),
      cb: (_p, current, total) => calls.push(current, total!),
    });
    await collect(param.iterEncode(B));
    expect(calls.slice(-2)).toEqual([param.getSize(B), param.getSize(B)]);
  });
});

describe('the brand', () => {
  it("is common's brandOf('MultipartParam'): a param of the other build (ESM or CommonJS) is one", () => {
    expect(isMultipartParam(new MultipartParam('a', { value: 'x' }))).toBe(true);
    expect(isMultipartParam({ [brandOf('MultipartParam')]: true })).toBe(true);
    for (const value of [null, {}, 'a', { [Symbol('multipart-poster.MultipartParam')]: true }])
      expect(isMultipartParam(value)).toBe(false);
  });
});

describe('a param is its own wire part', () => {
  it('a [name, string] pair makes the same param as new MultipartParam(name, { value })', async () => {
    const [fromPair] = MultipartParam.fromParams([['n', 'v☃']]);
    const made = new MultipartParam('n', { value: 'v☃' });
    for (const key of ['name', 'filename', 'filetype', 'headers', 'cb', 'isFile', 'size', 'replayable'] as const)
      expect(fromPair![key]).toEqual(made[key]);
    expect(fromPair!.encode(B).equals(made.encode(B))).toBe(true);
  });

  it('what is sent is fixed when the body is planned, whatever is done to the param after', async () => {
    const param = new MultipartParam('n', { value: 'v' });
    const form = await multipartEncode([param], { boundary: B });
    const before = await collect(form.body);
    Object.assign(param, { name: 'a much longer name', filename: 'x.bin', filetype: 'a/b' }); // readonly only to TypeScript
    const after = await collect(form.body);
    expect(after.equals(before)).toBe(true);
    expect(after.length).toBe(form.contentLength);
  });

  it.each([
    ['a filetype with CRLF', 'filetype', 'text/plain\r\nX-Injected: 1', 'ERR_INVALID_HEADER_VALUE'],
    ['a header value with CRLF', 'headers', [['X-A', 'b\r\nX-Injected: 1']], 'ERR_INVALID_HEADER_VALUE'],
    ['a header name with CRLF', 'headers', [['X-A\r\nX-Injected', '1']], 'ERR_INVALID_HEADER_NAME'],
  ])('%s assigned before the body is planned cannot inject a header line', async (_label, key, value, code) => {
    for (const make of [
      () => new MultipartParam('n', { value: 'v' }),
      () => new MultipartParam('n', { value: new Uint8Array(1) }),
    ]) {
      const param = make();
      Object.assign(param, { [key]: value }); // readonly only to TypeScript
      await expect(multipartEncode([param], { boundary: B })).rejects.toMatchObject({ code, paramName: 'n' });
      expect(() => param.encode(B)).toThrow(expect.objectContaining({ code }));
    }
  });
});

describe("a param's bytes are measured when it is made", () => {
  const ResizableBuffer = ArrayBuffer as unknown as new (
    length: number,
    options: { maxByteLength: number },
  ) => ArrayBuffer & { resize(length: number): void };
  const detached = () => {
    const data = new Uint8Array(1000);
    return { data, change: () => void structuredClone(data.buffer, { transfer: [data.buffer] }) };
  };
  const shrunk = () => {
    const buffer = new ResizableBuffer(1000, { maxByteLength: 2000 });
    return { data: new Uint8Array(buffer), change: () => buffer.resize(10) };
  };

  it.each([
    ['transferred (detached)', detached, undefined],
    ['transferred (detached), a file part', detached, 'd.bin'],
    ['shrunk (a resizable ArrayBuffer)', shrunk, undefined],
    ['shrunk (a resizable ArrayBuffer), a file part', shrunk, 'd.bin'],
  ])(
    'bytes %s before encoding: ERR_SIZE_MISMATCH naming the field, not a short body',
    async (_what, make, filename) => {
      const { data, change } = make();
      const param = new MultipartParam('d', filename === undefined ? { value: data } : { value: data, filename });
      change();
      expect(param.size).toBe(1000);
      const mismatch = { name: 'MultipartError', code: 'ERR_SIZE_MISMATCH', paramName: 'd' };
      await expect(multipartEncode([param])).rejects.toMatchObject(mismatch);
      await expect(multipartEncode([param], { boundary: B })).rejects.toMatchObject(mismatch);
      expect(() => param.encode(B)).toThrow(expect.objectContaining(mismatch));
      expect(() => param.getSize(B)).toThrow(expect.objectContaining(mismatch));
    },
  );

  it('a buffer transferred after one param took it fails a param made of it later too', async () => {
    const { data, change } = detached();
    void new MultipartParam('first', { value: data });
    change();
    await expect(multipartEncode([new MultipartParam('later', { value: data })])).rejects.toMatchObject({
      code: 'ERR_SIZE_MISMATCH',
      paramName: 'later',
    });
  });
});
