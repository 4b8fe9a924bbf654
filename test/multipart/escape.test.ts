import { describe, expect, it } from 'vitest';
import { encodeAndQuote, escapeFilename, escapeName } from '../../src/multipart/escape.js';

describe('escapeName (WHATWG multipart/form-data encoding)', () => {
  it.each([
    ['plain', 'plain'],
    ['a\nb', 'a%0D%0Ab'],
    ['a\rb', 'a%0D%0Ab'],
    ['a\r\nb', 'a%0D%0Ab'],
    ['a\n\rb', 'a%0D%0A%0D%0Ab'],
    ['a"b', 'a%22b'],
    ["back\\slash 'q' ;semi %25 \0nul", "back\\slash 'q' ;semi %25 \0nul"],
    ['snow ☃ 😀', 'snow ☃ 😀'],
  ])('%j → %j', (input, expected) => {
    expect(escapeName(input)).toBe(expected);
  });
});

describe('escapeFilename', () => {
  it.each([
    ['b\nc', 'b%0Ac'],
    ['b\rc', 'b%0Dc'],
    ['b\r\nc', 'b%0D%0Ac'],
    ['b"c', 'b%22c'],
    ['dir/file name.txt', 'dir/file name.txt'],
    ['ünï.txt', 'ünï.txt'],
  ])('%j → %j', (input, expected) => {
    expect(escapeFilename(input)).toBe(expected);
  });
});

describe('encodeAndQuote (Python quote_plus after UTF-8)', () => {
  it.each([
    ['foo bar', 'foo+bar'],
    ['foo@bar', 'foo%40bar'],
    ['(©) 2008', '%28%C2%A9%29+2008'],
    ['~a_b.c-d/', '~a_b.c-d%2F'],
    ['', ''],
    ['+&=?', '%2B%26%3D%3F'],
  ])('%j → %j', (input, expected) => {
    expect(encodeAndQuote(input)).toBe(expected);
  });

  it('quotes bytes as they are and passes null through', () => {
    expect(encodeAndQuote(Buffer.from([0x00, 0xff, 0x41]))).toBe('%00%FFA');
    expect(encodeAndQuote(null)).toBeNull();
    expect(encodeAndQuote(undefined)).toBeUndefined();
  });
});
