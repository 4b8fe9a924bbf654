import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { multipartEncode, MultipartError, MultipartParam } from '../../src/index.js';
import { tempDir } from '../helpers/files.js';
import { curlStyle } from '../helpers/forms.js';
import { collect, parseWithBusboy } from '../helpers/parse.js';

const dir = tempDir();

describe('nested bodies: multipart/mixed inside form-data, as curl sends -F "files=@a.txt,b.txt"', () => {
  it('busboy still reads the outer form-data: the nested body is one part typed multipart/mixed', async () => {
    const form = await curlStyle(dir);
    const body = await collect(form.body);
    expect(body.length).toBe(form.contentLength);
    const parts = await parseWithBusboy(form.headers, body);
    expect(parts.map((p) => [p.name, p.type])).toEqual([
      ['title', 'text/plain'],
      ['files', 'multipart/mixed'],
      ['after', 'text/plain'],
    ]);
  });

  it('streams lazily: no file is opened until its part is reached, and the length is known without reading', async () => {
    const form = await curlStyle(dir);
    expect(form.contentLength).toBeGreaterThan(100_000);
    const again = await collect(form.body);
    expect(again.length).toBe(form.contentLength);
    expect((await collect(form.body)).equals(again)).toBe(true); // replayable, identical bytes
  });

  it('reports progress to the outer param and the inner ones', async () => {
    const calls: string[] = [];
    const innerParam = new MultipartParam(null, { value: 'abc', cb: (_p, current) => calls.push(`inner ${current}`) });
    const inner = await multipartEncode([innerParam], { subtype: 'mixed' });
    const outer = new MultipartParam('n', {
      value: inner,
      cb: (_p, current, total) => calls.push(`outer ${current}/${total}`),
    });
    const form = await multipartEncode([outer]);
    await collect(form.body);
    const size = outer.getSize(form.boundary);
    expect(calls.filter((c) => c.startsWith('outer')).at(-1)).toBe(`outer ${size}/${size}`);
    expect(calls.filter((c) => c.startsWith('inner')).at(-1)).toBe(`inner ${innerParam.getSize(inner.boundary)}`);
  });
});

describe('the rules of the part model, each a typed error', () => {
  const nameless = new MultipartParam(null, { value: 'x' });
  it.each<[string, () => unknown, string]>([
    ['a nameless part in form-data', () => multipartEncode([nameless]), 'ERR_INVALID_NAME'],
    ['an empty multipart/related body', () => multipartEncode([], { subtype: 'related' }), 'ERR_INVALID_PARAMS'],
    [
      'a subtype that is not a token',
      () => multipartEncode([nameless], { subtype: 'mixed; x=1' }),
      'ERR_INVALID_OPTION',
    ],
    [
      'a boundary parameter',
      () => multipartEncode([nameless], { subtype: 'mixed', parameters: { Boundary: 'x' } }),
      'ERR_INVALID_OPTION',
    ],
    [
      'a parameter given twice',
      () =>
        multipartEncode([nameless], {
          subtype: 'mixed',
          parameters: [
            ['type', 'a'],
            ['TYPE', 'b'],
          ],
        }),
      'ERR_INVALID_OPTION',
    ],
    [
      'a parameter value with CR/LF',
      () => multipartEncode([nameless], { subtype: 'mixed', parameters: { type: 'a\r\nb' } }),
      'ERR_INVALID_OPTION',
    ],
    [
      'a header name that is not a token',
      () => new MultipartParam(null, { headers: { 'Bad Name': 'x' } }),
      'ERR_INVALID_HEADER_NAME',
    ],
    [
      'a header name that reads as a delimiter',
      () => new MultipartParam(null, { headers: { '--B': 'x' } }),
      'ERR_INVALID_HEADER_NAME',
    ],
    [
      'a header value with LF',
      () => new MultipartParam(null, { headers: { 'X-A': 'a\nB: c' } }),
      'ERR_INVALID_HEADER_VALUE',
    ],
    [
      'a header value with NUL',
      () => new MultipartParam(null, { headers: { 'X-A': 'a\0' } }),
      'ERR_INVALID_HEADER_VALUE',
    ],
    [
      'the same header twice',
      () =>
        new MultipartParam(null, {
          headers: [
            ['Content-ID', '<a>'],
            ['content-id', '<b>'],
          ],
        }),
      'ERR_HEADER_CONFLICT',
    ],
    [
      'a Content-Type header and filetype',
      () => new MultipartParam(null, { filetype: 'a/b', headers: { 'content-type': 'c/d' } }),
      'ERR_HEADER_CONFLICT',
    ],
    [
      'a Content-Disposition header beside a name',
      () => new MultipartParam('n', { headers: { 'Content-Disposition': 'inline' } }),
      'ERR_HEADER_CONFLICT',
    ],
    [
      'a Content-Length header that lies',
      () => new MultipartParam(null, { value: 'abc', headers: { 'Content-Length': '2' } }),
      'ERR_HEADER_CONFLICT',
    ],
    [
      'a Content-Type on a nested body',
      async () =>
        new MultipartParam(null, { value: await multipartEncode([nameless], { subtype: 'mixed' }), filetype: 'a/b' }),
      'ERR_HEADER_CONFLICT',
    ],
    [
      'a nested boundary that starts with the outer one',
      async () =>
        multipartEncode(
          [
            new MultipartParam(null, {
              value: await multipartEncode([nameless], { subtype: 'mixed', boundary: 'outer-x' }),
            }),
          ],
          { subtype: 'mixed', boundary: 'outer' },
        ),
      'ERR_INVALID_BOUNDARY',
    ],
  ])('%s', async (_label, make, code) => {
    let error: unknown;
    try {
      await make();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MultipartError);
    expect((error as MultipartError).code).toBe(code);
  });

  it('a Content-Type header is the part type, written once in its place; a right Content-Length passes', async () => {
    const param = new MultipartParam(null, {
      value: 'abc',
      headers: { 'content-type': 'text/csv', 'Content-Length': '3' },
    });
    expect(param.filetype).toBe('text/csv');
    expect(param.headers).toEqual([['Content-Length', '3']]);
    const form = await multipartEncode([param], { subtype: 'mixed', boundary: 'b' });
    expect((await collect(form.body)).toString()).toBe(
      '--b\r\nContent-Type: text/csv\r\nContent-Length: 3\r\n\r\nabc\r\n--b--\r\n',
    );
  });

  it('a stream of unknown size nested makes the whole length unknown, and still streams', async () => {
    const inner = await multipartEncode([new MultipartParam(null, { fileobj: Readable.from([Buffer.from('xyz')]) })], {
      subtype: 'mixed',
    });
    const form = await multipartEncode({ f: inner });
    expect(form.contentLength).toBeUndefined();
    expect((await collect(form.body)).toString()).toContain('xyz');
  });
});
