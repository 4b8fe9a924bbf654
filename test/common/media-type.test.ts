import { describe, expect, it } from 'vitest';
import {
  boundaryOf,
  parseMediaType,
  readQuotedString,
  splitParameters,
  type QuotingRule,
} from '../../src/common/media-type.js';

type Row = [raw: string, essence: string, rfc9110: Record<string, string>, whatwg?: Record<string, string>];

/**
 * Raw header values as they arrive, and what each quoting rule reads from them (busboy's table
 * style). The last column is given only where the rules disagree: `\` escapes the next character
 * under RFC 9110 (Content-Type) and is an ordinary character under WHATWG (form-data's
 * Content-Disposition, where a quoted value runs to the next `"`).
 */
const rows: Row[] = [
  ['multipart/form-data; boundary=abc', 'multipart/form-data', { boundary: 'abc' }],
  ['Multipart/Form-Data ; Boundary=ABC', 'multipart/form-data', { boundary: 'ABC' }],
  ['multipart/form-data; boundary="a b"', 'multipart/form-data', { boundary: 'a b' }],
  ['multipart/form-data;boundary=abc', 'multipart/form-data', { boundary: 'abc' }],
  ['multipart/form-data; boundary=abc;', 'multipart/form-data', { boundary: 'abc' }],
  ['multipart/form-data; boundary="a;b"; x=1', 'multipart/form-data', { boundary: 'a;b', x: '1' }],
  ['multipart/form-data; boundary="a\\"b"', 'multipart/form-data', { boundary: 'a"b' }, { boundary: 'a\\' }],
  ['multipart/form-data; boundary="a\\\\b"', 'multipart/form-data', { boundary: 'a\\b' }, { boundary: 'a\\\\b' }],
  ['form-data; name="a\\"; filename="b"', 'form-data', { name: 'a"; filename=' }, { name: 'a\\', filename: 'b' }],
  ['form-data; name="a%22b"; filename="c.txt"', 'form-data', { name: 'a%22b', filename: 'c.txt' }],
  ['form-data; name="☃"', 'form-data', { name: '☃' }],
  ['text/plain; charset', 'text/plain', {}],
  ['text/plain; =x', 'text/plain', {}],
  ['text/plain; a=1; A=2', 'text/plain', { a: '1' }],
  ['text/plain; a=  1  ', 'text/plain', { a: '1' }],
  ['text/plain;\ta=\t1\t', 'text/plain', { a: '1' }],
  ['text/plain; a="unterminated', 'text/plain', { a: 'unterminated' }],
  ['text/plain; a="x\\', 'text/plain', { a: 'x\\' }],
  ['text/plain; a=""', 'text/plain', { a: '' }],
  ['text/plain; a="x" junk', 'text/plain', { a: 'x' }],
  ['text/plain; a=b=c', 'text/plain', { a: 'b=c' }],
  ['text/plain; a = "x"', 'text/plain', { a: 'x' }],
  ['', '', {}],
  ['  ', '', {}],
  [';;;', '', {}],
  ['"quoted;essence"; a=1', '"quoted;essence"', { a: '1' }],
  ['multipart/mixed; boundary=x; boundary=y', 'multipart/mixed', { boundary: 'x' }],
  ['multipart/mixed; boundary*=x', 'multipart/mixed', { 'boundary*': 'x' }],
];

describe('parseMediaType: raw header values under both quoting rules', () => {
  for (const [raw, essence, rfc9110, whatwg = rfc9110] of rows) {
    for (const [rule, expected] of [
      ['rfc9110', rfc9110],
      ['whatwg', whatwg],
    ] as const) {
      it(`${JSON.stringify(raw)} (${rule})`, () => {
        const parsed = parseMediaType(raw, rule);
        expect(parsed.essence).toBe(essence);
        expect(Object.fromEntries(parsed.parameters)).toEqual(expected);
      });
    }
  }

  it('defaults to the RFC 9110 rule (Content-Type)', () => {
    expect(parseMediaType('a/b; k="x\\"y"').parameters.get('k')).toBe('x"y');
  });
});

describe('readQuotedString', () => {
  it.each<[string, number, QuotingRule, string, number, boolean]>([
    ['"abc" rest', 0, 'rfc9110', 'abc', 5, true],
    ['x="abc"', 2, 'rfc9110', 'abc', 7, true],
    ['"a\\"b"', 0, 'rfc9110', 'a"b', 6, true],
    ['"a\\"b"', 0, 'whatwg', 'a\\', 4, true],
    ['"open', 0, 'rfc9110', 'open', 5, false],
    ['"a\\', 0, 'rfc9110', 'a\\', 3, false],
    ['"', 0, 'whatwg', '', 1, false],
    ['""', 0, 'rfc9110', '', 2, true],
  ])('%j from %i (%s) reads %j, ending at %i (closed: %s)', (text, start, rule, value, end, closed) => {
    expect(readQuotedString(text, start, rule)).toEqual({ value, end, closed });
  });
});

describe('splitParameters', () => {
  it.each<[string, QuotingRule, string[]]>([
    ['a; b; c', 'rfc9110', ['a', ' b', ' c']],
    ['a; b="x;y"; c', 'whatwg', ['a', ' b="x;y"', ' c']],
    ['a; b="x\\";y"; c', 'rfc9110', ['a', ' b="x\\";y"', ' c']],
    ['a; b="x\\";y"; c', 'whatwg', ['a', ' b="x\\"', 'y"; c']],
    ['', 'rfc9110', ['']],
    [';', 'rfc9110', ['', '']],
  ])('%j (%s)', (value, rule, pieces) => {
    expect(splitParameters(value, rule)).toEqual(pieces);
  });
});

describe('boundaryOf', () => {
  it.each<[string, string | undefined]>([
    ['multipart/form-data; boundary=abc', 'abc'],
    ['multipart/form-data; BOUNDARY="a b"', 'a b'],
    ['multipart/form-data', undefined],
    ['multipart/form-data; boundary=', ''],
    ['multipart/form-data; xboundary=abc', undefined],
  ])('%j', (value, boundary) => {
    expect(boundaryOf(value)).toBe(boundary);
  });
});
