import { describe, expect, it } from 'vitest';
import type { ByteSource } from '../../src/multipart/sources.js';
import {
  bodyLength,
  inMemory,
  multipartContentType,
  wirePieces,
  type Framing,
  type Part,
} from '../../src/multipart/wire.js';

/** Parts in, exact bytes out: the wire format as a table, in the style of busboy's tests. */
const part = (fields: Partial<Part<string>>): Part<string> => ({
  name: undefined,
  filename: undefined,
  contentType: undefined,
  headers: undefined,
  data: '',
  owner: 'p',
  ...fields,
});

const formData: Framing = { boundary: 'B', disposition: 'form-data', chosen: false };
const other: Framing = { boundary: 'B', disposition: 'attachment', chosen: false };

function bytesOf(parts: Part<string>[], framing: Framing, close = true): string {
  const pieces = wirePieces(parts, framing, close);
  const out = Buffer.concat(pieces.map(({ data }) => Buffer.from(inMemory(data as Exclude<typeof data, ByteSource>))));
  expect(out.length).toBe(bodyLength(pieces));
  return out.toString('latin1');
}

const nested = (parts: Part<string>[], boundary: string) => ({
  boundary,
  pieces: wirePieces(parts, { boundary, disposition: 'attachment', chosen: false }),
});

describe('wire.ts: parts in, exact bytes out', () => {
  it.each<[string, Part<string>[], Framing, string]>([
    ['an empty form-data body', [], formData, '--B--\r\n'],
    [
      'a text field',
      [part({ name: 'a', data: 'x' })],
      formData,
      '--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--B--\r\n',
    ],
    [
      'a file part',
      [part({ name: 'f', filename: 'a.txt', contentType: 'text/plain', data: Buffer.from('hi') })],
      formData,
      '--B\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B--\r\n',
    ],
    [
      'escaped name and filename',
      [part({ name: 'a"\nb', filename: 'c"\rd', data: '' })],
      formData,
      '--B\r\nContent-Disposition: form-data; name="a%22%0D%0Ab"; filename="c%22%0Dd"\r\n\r\n\r\n--B--\r\n',
    ],
    [
      'extra headers, in the order given, after Content-Type',
      [
        part({
          name: 'a',
          contentType: 'text/plain',
          headers: [
            ['Content-ID', '<1>'],
            ['X-Thing', 'v'],
          ],
          data: 'x',
        }),
      ],
      formData,
      '--B\r\nContent-Disposition: form-data; name="a"\r\nContent-Type: text/plain\r\nContent-ID: <1>\r\nX-Thing: v\r\n\r\nx\r\n--B--\r\n',
    ],
    [
      'multipart/related: nameless parts carry no Content-Disposition',
      [
        part({ contentType: 'application/json; charset=UTF-8', data: '{}' }),
        part({ contentType: 'image/png', data: Buffer.from([1, 2]) }),
      ],
      other,
      '--B\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{}\r\n--B\r\nContent-Type: image/png\r\n\r\n\x01\x02\r\n--B--\r\n',
    ],
    [
      'outside form-data, a named part is an attachment (as curl writes it)',
      [part({ name: 'doc', filename: 'a.pdf', data: 'x' })],
      other,
      '--B\r\nContent-Disposition: attachment; name="doc"; filename="a.pdf"\r\n\r\nx\r\n--B--\r\n',
    ],
    ['a part with no headers at all', [part({ data: 'x' })], other, '--B\r\n\r\nx\r\n--B--\r\n'],
    [
      'a nested multipart/mixed inside form-data (curl -F f=@a,b)',
      [
        part({
          name: 'f',
          contentType: 'multipart/mixed; boundary=in',
          data: nested(
            [
              part({ headers: [['Content-Disposition', 'attachment; filename="a"']], data: 'A' }),
              part({ data: Buffer.from('B') }),
            ],
            'in',
          ),
        }),
      ],
      formData,
      '--B\r\nContent-Disposition: form-data; name="f"\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n' +
        '--in\r\nContent-Disposition: attachment; filename="a"\r\n\r\nA\r\n--in\r\n\r\nB\r\n--in--\r\n' +
        '\r\n--B--\r\n',
    ],
    [
      'two levels of nesting',
      [part({ data: nested([part({ data: nested([part({ data: 'deep' })], 'l2') })], 'l1') })],
      other,
      '--B\r\n\r\n--l1\r\n\r\n--l2\r\n\r\ndeep\r\n--l2--\r\n\r\n--l1--\r\n\r\n--B--\r\n',
    ],
  ])('%s', (_label, parts, framing, expected) => {
    expect(bytesOf(parts, framing)).toBe(expected);
  });

  it('a single part without the close delimiter (iterEncode)', () => {
    expect(bytesOf([part({ name: 'a', data: 'x' })], formData, false)).toBe(
      '--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n',
    );
  });

  it('a nested boundary that starts with the outer one is refused', () => {
    expect(() => wirePieces([part({ data: nested([], 'B-inner') })], other)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_BOUNDARY' }),
    );
  });

  it('with a chosen outer boundary, data anywhere inside, nested too, is checked for its delimiter', () => {
    const chosen = { ...other, chosen: true };
    expect(() => wirePieces([part({ name: 'a', data: 'x\r\n--B' })], chosen)).toThrow(
      expect.objectContaining({ code: 'ERR_BOUNDARY_IN_DATA', paramName: 'a' }),
    );
    expect(() =>
      wirePieces([part({ data: nested([part({ name: 'in', data: Buffer.from('\r\n--B\r\n') })], 'other') })], chosen),
    ).toThrow(expect.objectContaining({ code: 'ERR_BOUNDARY_IN_DATA', paramName: 'in' }));
    expect(() => wirePieces([part({ data: nested([part({ data: '--B' })], 'other') })], chosen)).toThrow(
      expect.objectContaining({ code: 'ERR_BOUNDARY_IN_DATA' }),
    );
  });
});

describe('multipartContentType: parameters quoted as RFC 2045 requires', () => {
  it.each([
    ['form-data', 'abc', [], 'multipart/form-data; boundary=abc'],
    ['form-data', 'a b', [], 'multipart/form-data; boundary="a b"'],
    ['related', 'abc', [['type', 'application/json']], 'multipart/related; boundary=abc; type="application/json"'],
    [
      'related',
      'abc',
      [
        ['start', '<root@x>'],
        ['start-info', 'a "q" \\ b'],
      ],
      'multipart/related; boundary=abc; start="<root@x>"; start-info="a \\"q\\" \\\\ b"',
    ],
    [
      'mixed',
      'abc',
      [
        ['charset', 'utf-8'],
        ['empty', ''],
      ],
      'multipart/mixed; boundary=abc; charset=utf-8; empty=""',
    ],
  ] as const)('%s %s %j', (subtype, boundary, parameters, expected) => {
    expect(multipartContentType(subtype, boundary, parameters)).toBe(expected);
  });
});
