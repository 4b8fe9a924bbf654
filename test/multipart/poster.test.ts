import { describe, expect, it } from 'vitest';
import {
  encodeFileHeader,
  escapeFilename,
  escapeName,
  encodeString,
  getBodySize,
  getHeaders,
  MultipartError,
  MultipartParam,
} from '../../src/index.js';
import { tempDir, writeFile } from '../helpers/files.js';

// poster's module-level functions (src/multipart/poster.ts), kept for code ported from it.
const B = 'XyZzy';
const dir = tempDir();

describe('poster helpers', () => {
  it('encodeString is one complete text part', () => {
    expect(encodeString(B, 'n', 'v').toString()).toBe(
      `--${B}\r\nContent-Disposition: form-data; name="n"\r\n\r\nv\r\n`,
    );
  });

  it('encodeFileHeader is a file part header with a type', () => {
    expect(encodeFileHeader(B, 'f', 10, 'a.txt')).toBe(
      `--${B}\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n`,
    );
    expect(encodeFileHeader(B, 'f', 10)).toContain('Content-Type: application/octet-stream\r\n');
    expect(() => encodeFileHeader(B, 'f', -1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_VALUE' }));
    expect(() => encodeFileHeader(B, 'f', 1, 'a', 'x\r\ny')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_HEADER_VALUE' }),
    );
  });

  it('getHeaders has the length when known and leaves it out for a stream of unknown size', async () => {
    expect(getHeaders({ a: 'b' }, B)).toEqual({
      'Content-Type': `multipart/form-data; boundary=${B}`,
      'Content-Length': String(getBodySize({ a: 'b' }, B)),
    });
    const unknown = new MultipartParam('s', { fileobj: (async function* () {})() });
    expect(getHeaders([unknown], B)).toEqual({ 'Content-Type': `multipart/form-data; boundary=${B}` });
    expect(() => getBodySize([unknown], B)).toThrow(expect.objectContaining({ code: 'ERR_SIZE_UNKNOWN' }));
  });
});

describe('poster helpers given hostile arguments', () => {
  it.each<[string, () => unknown, string]>([
    ['getBodySize with an invalid boundary', () => getBodySize({ a: 'b' }, 'bad boundary '), 'ERR_INVALID_BOUNDARY'],
    ['getHeaders with params that are a string', () => getHeaders('a=b' as never, B), 'ERR_INVALID_PARAMS'],
    ['getBodySize with data holding the delimiter', () => getBodySize({ a: `x\r\n--${B}` }, B), 'ERR_BOUNDARY_IN_DATA'],
    ['encodeString with a name that is not a string', () => encodeString(B, 1 as never, 'v'), 'ERR_INVALID_NAME'],
    ['encodeString with a value of the wrong kind', () => encodeString(B, 'n', {} as never), 'ERR_INVALID_VALUE'],
    ['encodeFileHeader with a NaN size', () => encodeFileHeader(B, 'f', NaN), 'ERR_INVALID_VALUE'],
    ['encodeFileHeader with a fractional size', () => encodeFileHeader(B, 'f', 1.5), 'ERR_INVALID_VALUE'],
    ['encodeFileHeader with a name that is not a string', () => encodeFileHeader(B, 1 as never, 1), 'ERR_INVALID_NAME'],
    [
      'encodeFileHeader with a type that is not a string',
      () => encodeFileHeader(B, 'f', 1, 'a', 1 as never),
      'ERR_INVALID_VALUE',
    ],
    ['encodeFileHeader with an injected boundary', () => encodeFileHeader('B\r\nX: 1', 'f', 1), 'ERR_INVALID_BOUNDARY'],
    [
      'encodeFileHeader with a filename that is a number',
      () => encodeFileHeader(B, 'f', 1, 42 as never),
      'ERR_INVALID_VALUE',
    ],
    // Turned into text twice (a test, then the header), it would answer clean, then with a header line.
    [
      'encodeFileHeader with a filename whose toString changes',
      () => encodeFileHeader(B, 'f', 1, changingText('x.txt', 'x.txt"\r\nX-Injected: 1\r\nY: "') as never),
      'ERR_INVALID_VALUE',
    ],
    ['escapeFilename of an object', () => escapeFilename(changingText('a', 'a\r\nX: 1') as never), 'ERR_INVALID_VALUE'],
    ['escapeName of an object', () => escapeName(changingText('a', 'a\r\nX: 1') as never), 'ERR_INVALID_NAME'],
  ])('%s', (_label, call, code) => {
    let error: unknown;
    try {
      call();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MultipartError);
    expect((error as MultipartError).code).toBe(code);
  });

  it('getBodySize counts a file without opening it, as the encoder does', async () => {
    const path = writeFile(dir, 'counted.txt', 'twelve bytes');
    const param = await MultipartParam.fromFile('f', path);
    expect(getBodySize([param], B)).toBe(param.getSize(B) + B.length + 6);
  });
});

/** An object whose text is `first` once, then `then` every time after. */
function changingText(first: string, then: string): object {
  let calls = 0;
  return { toString: () => (calls++ === 0 ? first : then) };
}
