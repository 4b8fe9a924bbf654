import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MultipartError, multipartEncode, MultipartParam, type NestedForm } from '../../src/index.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { collect } from '../helpers/parse.js';

// A multipart body as a part's value (src/multipart/nesting.ts): only an encoded body, with the
// Content-Type it was encoded with, nests; anything made to look like one is refused, typed.
const dir = tempDir();
const nameless = () => new MultipartParam(null, { value: 'x' });

function codeOf(make: () => unknown): string | undefined {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(MultipartError);
    return `${(error as MultipartError).code} ${(error as MultipartError).paramName}`;
  }
  return undefined;
}

describe('what nests', () => {
  it('an encoded body, as it is or spread with headers added', async () => {
    const inner = await multipartEncode([nameless()], { subtype: 'mixed', boundary: 'inner' });
    for (const value of [inner, { ...inner }, { ...inner, headers: { ...inner.headers, authorization: 'x' } }]) {
      const param = new MultipartParam('n', { value });
      expect(param.filetype).toBe('multipart/mixed; boundary=inner');
      const form = await multipartEncode([param], { boundary: 'outer' });
      expect((await collect(form.body)).toString()).toContain(
        'Content-Type: multipart/mixed; boundary=inner\r\n\r\n--inner\r\n\r\nx\r\n--inner--\r\n\r\n--outer--',
      );
    }
  });

  it('with its Content-Type parameters (multipart/related)', async () => {
    const inner = await multipartEncode([nameless()], {
      subtype: 'related',
      boundary: 'in',
      parameters: { type: 'application/json', start: '<root>' },
    });
    expect(new MultipartParam('n', { value: inner }).filetype).toBe(
      'multipart/related; boundary=in; type="application/json"; start="<root>"',
    );
  });
});

describe('what is refused', () => {
  it.each<[string, (real: NestedForm) => unknown, string]>([
    [
      "a boundary not the pieces'",
      (real) => ({ ...real, boundary: 'safe', headers: { 'Content-Type': 'multipart/mixed; boundary=safe' } }),
      'ERR_INVALID_VALUE n',
    ],
    [
      'a Content-Type with CRLF',
      (real) => ({ ...real, headers: { 'Content-Type': `${real.headers['Content-Type']}\r\nX-Injected: 1` } }),
      'ERR_INVALID_HEADER_VALUE n',
    ],
    [
      'another boundary in the Content-Type',
      (real) => ({ ...real, headers: { 'Content-Type': 'multipart/mixed; boundary=other' } }),
      'ERR_INVALID_VALUE n',
    ],
    [
      'a second boundary parameter',
      (real) => ({ ...real, headers: { 'Content-Type': `${real.headers['Content-Type']}; boundary=evil` } }),
      'ERR_INVALID_VALUE n',
    ],
    [
      'a boundary* parameter',
      (real) => ({ ...real, headers: { 'Content-Type': `${real.headers['Content-Type']}; boundary*=evil` } }),
      'ERR_INVALID_VALUE n',
    ],
    [
      'another subtype',
      (real) => ({ ...real, headers: { 'Content-Type': 'multipart/form-data; boundary=inner' } }),
      'ERR_INVALID_VALUE n',
    ],
    [
      'a quoted boundary (the same value, another spelling)',
      (real) => ({ ...real, headers: { 'Content-Type': 'multipart/mixed; boundary="inner"' } }),
      'ERR_INVALID_VALUE n',
    ],
    ['no Content-Type', (real) => ({ ...real, headers: {} }), 'ERR_INVALID_VALUE n'],
    [
      'a Content-Type that is not a string',
      (real) => ({ ...real, headers: { 'Content-Type': 42 } }),
      'ERR_INVALID_VALUE n',
    ],
    ['a body of plain chunks', (real) => ({ ...real, body: (async function* () {})() }), 'ERR_INVALID_VALUE n'],
  ])('%s', async (_label, forge, expected) => {
    const real = await multipartEncode([nameless()], { subtype: 'mixed', boundary: 'inner' });
    expect(codeOf(() => new MultipartParam('n', { value: forge(real) as never }))).toBe(expected);
  });

  it('a raw body (no multipart framing) does not nest', async () => {
    const { rawBody } = await import('../../src/index.js');
    const raw = await rawBody(new Uint8Array(1));
    expect(codeOf(() => new MultipartParam('n', { value: { ...raw, boundary: 'x' } as never }))).toBe(
      'ERR_INVALID_VALUE n',
    );
  });

  it.each(['boundary*', 'boundary*0', 'BOUNDARY*1*'])('a %s parameter cannot name a second boundary', async (key) => {
    await expect(
      multipartEncode([nameless()], { subtype: 'related', parameters: { [key]: 'EVIL' } }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });

  it('an error inside a nameless nested part names the outer field', async () => {
    const path = writeFile(dir, 'nested-change.txt', 'abc');
    const inner = await multipartEncode([await MultipartParam.fromFile(null, path)], { subtype: 'mixed' });
    const form = await multipartEncode({ files: inner });
    appendFileSync(path, 'more');
    await expect(collect(form.body)).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'files' });
  });
});
