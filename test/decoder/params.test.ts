import { describe, expect, it } from 'vitest';
import { multipartDecode } from '../../src/decoder/decode.js';
import type { DecodedPart } from '../../src/decoder/part.js';

/** The one part of a body whose header lines are given as bytes (latin1 strings carry raw bytes). */
async function partWith(...lines: string[]): Promise<DecodedPart> {
  const body = Buffer.from(`--b\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\nx\r\n--b--`, 'latin1');
  const parts = multipartDecode([body], { boundary: 'b' });
  const { value } = await parts.next();
  return value!;
}

const utf8 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

describe('name and filename from Content-Disposition', () => {
  it.each([
    ['a plain quoted name', 'form-data; name="field"', 'field', undefined],
    ['a token name, parameters in any case', 'form-data; NAME=field; FileName=a.txt', 'field', 'a.txt'],
    ['a browser name ending in a backslash (WHATWG: no escapes)', 'form-data; name="a\\"; filename="b"', 'a\\', 'b'],
    ['a Windows path sent raw', 'form-data; name="f"; filename="C:\\dir\\x.txt"', 'f', 'C:\\dir\\x.txt'],
    [
      '%22, %0D%0A as browsers escape them',
      'form-data; name="a%22b%0D%0Ac"; filename="q%22.txt"',
      'a"b\r\nc',
      'q".txt',
    ],
    [
      "Go's and Python's backslash escapes, which only read that way",
      'form-data; name="a\\"b"; filename="c\\\\d"',
      'a"b',
      'c\\d',
    ],
    [
      'raw UTF-8 bytes, as browsers send them',
      utf8('form-data; name="naïve ☃"; filename="🎉.png"'),
      'naïve ☃',
      '🎉.png',
    ],
    ['bytes that are not UTF-8 read one character each', 'form-data; name="caf\xe9"', 'café', undefined],
    ['no Content-Disposition parameters', 'attachment', undefined, undefined],
  ])('%s', async (_what, value, name, filename) => {
    const part = await partWith(`Content-Disposition: ${value}`);
    expect([part.name, part.filename]).toEqual([name, filename]);
  });

  it.each([
    [
      'RFC 8187 UTF-8, over a fallback',
      `attachment; filename="fallback.txt"; filename*=UTF-8''na%C3%AFve%20%E2%82%AC.txt`,
      'naïve €.txt',
    ],
    ['RFC 8187 ISO-8859-1 with a language', `attachment; filename*=iso-8859-1'fr'caf%E9.txt`, 'café.txt'],
    [
      'an unknown charset: the plain filename stays',
      `attachment; filename="plain.txt"; filename*=koi8-r''%C1`,
      'plain.txt',
    ],
    [
      'bad UTF-8 in filename*: the plain filename stays',
      `attachment; filename="plain.txt"; filename*=UTF-8''%FF`,
      'plain.txt',
    ],
    ['RFC 2231 continuations', `attachment; filename*0*=UTF-8''na%C3%AF; filename*1="ve 100%.txt"`, 'naïve 100%.txt'],
  ])('%s', async (_what, value, filename) => {
    expect((await partWith(`Content-Disposition: ${value}`)).filename).toBe(filename);
  });

  it('a part without Content-Disposition or Content-Type has neither', async () => {
    const part = await partWith('X-Other: 1');
    expect([part.name, part.filename, part.contentType]).toEqual([undefined, undefined, undefined]);
  });
});

describe('headers', () => {
  it('rawHeaders keep order, case, duplicates and every byte; headers is a WHATWG Headers', async () => {
    const part = await partWith(
      'Content-Type: text/plain; charset=utf-8',
      'X-Dup: 1',
      'x-dup: 2',
      `X-Name: ${utf8('☃')}`,
      'X-Nul: a\0b',
    );
    expect(part.rawHeaders).toEqual([
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['X-Dup', '1'],
      ['x-dup', '2'],
      ['X-Name', utf8('☃')],
      ['X-Nul', 'a\0b'],
    ]);
    expect(part.headers).toBeInstanceOf(Headers);
    expect(part.headers.get('x-dup')).toBe('1, 2');
    expect(part.headers.get('X-NUL')).toBe('a%00b');
    expect(part.contentType).toBe('text/plain; charset=utf-8');
  });

  it('a Content-Type with raw UTF-8 reads as text', async () => {
    expect((await partWith(`Content-Type: ${utf8('text/x-☃')}`)).contentType).toBe('text/x-☃');
  });

  it('values are trimmed; a value may be empty', async () => {
    expect((await partWith('A:   spaced out  \t', 'B:')).rawHeaders).toEqual([
      ['A', 'spaced out'],
      ['B', ''],
    ]);
  });
});

describe('the body Content-Type', () => {
  it.each([
    ['a quoted boundary with a space', 'multipart/related; type="text/xml"; boundary="q b"', 'q b'],
    ['an escaped quote inside (RFC 9110)', 'multipart/mixed; boundary="a\\"b"', 'a"b'],
    ['a media type in capitals', 'Multipart/Form-Data; Boundary=XyZ', 'XyZ'],
  ])('%s', (_what, contentType, boundary) => {
    expect(multipartDecode([], { contentType }).boundary).toBe(boundary);
  });

  it('the media type is given back lowercased', () => {
    expect(multipartDecode([], { contentType: 'Multipart/Mixed; boundary=x' }).mediaType).toBe('multipart/mixed');
    expect(multipartDecode([], { boundary: 'x' }).mediaType).toBeUndefined();
  });
});
