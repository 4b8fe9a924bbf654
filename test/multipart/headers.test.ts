import { describe, expect, it } from 'vitest';
import { assertHeaderValue, checkPartHeaders, isHeaderValue, takeHeader } from '../../src/multipart/headers.js';
import type { HeaderLine } from '../../src/multipart/wire.js';

/** A part's own headers as a caller might give them: the lines sent, or the error's code. */
function linesOf(init: unknown): HeaderLine[] | string {
  try {
    return checkPartHeaders(init as never, 'f');
  } catch (error) {
    expect(error).toMatchObject({ name: 'MultipartError', paramName: 'f' });
    return (error as { code: string }).code;
  }
}

describe('checkPartHeaders: what a hostile caller gives as a part header', () => {
  it.each<[string, unknown, HeaderLine[] | string]>([
    ['nothing', undefined, []],
    [
      'an object',
      { 'Content-ID': '<1>', 'X-A': 'b' },
      [
        ['Content-ID', '<1>'],
        ['X-A', 'b'],
      ],
    ],
    [
      'pairs, in order',
      [
        ['X-B', '2'],
        ['X-A', '1'],
      ],
      [
        ['X-B', '2'],
        ['X-A', '1'],
      ],
    ],
    ['a Headers (lower-cased by it)', new Headers({ 'X-A': 'b' }), [['x-a', 'b']]],
    ['a Map', new Map([['X-A', 'b']]), [['X-A', 'b']]],
    ['an empty value', { 'X-A': '' }, [['X-A', '']]],
    ['a tab in a value', { 'X-A': 'a\tb' }, [['X-A', 'a\tb']]],
    ['non-ASCII in a value', { 'X-A': 'é☃' }, [['X-A', 'é☃']]],
    ['CRLF in a value', { 'X-A': 'a\r\nX-Injected: 1' }, 'ERR_INVALID_HEADER_VALUE'],
    ['a bare LF in a value', { 'X-A': 'a\nb' }, 'ERR_INVALID_HEADER_VALUE'],
    ['a bare CR in a value', { 'X-A': 'a\rb' }, 'ERR_INVALID_HEADER_VALUE'],
    ['NUL in a value', { 'X-A': 'a\0b' }, 'ERR_INVALID_HEADER_VALUE'],
    ['DEL in a value', { 'X-A': 'a\x7fb' }, 'ERR_INVALID_HEADER_VALUE'],
    ['a number value', { 'X-A': 1 }, 'ERR_INVALID_HEADER_VALUE'],
    ['an empty name', { '': 'x' }, 'ERR_INVALID_HEADER_NAME'],
    ['a name with a space', { 'X A': 'x' }, 'ERR_INVALID_HEADER_NAME'],
    ['a name with a colon', { 'X:A': 'x' }, 'ERR_INVALID_HEADER_NAME'],
    ['a name with CRLF', { 'X\r\nA': 'x' }, 'ERR_INVALID_HEADER_NAME'],
    ['a name that starts a delimiter line', { '--boundary': 'x' }, 'ERR_INVALID_HEADER_NAME'],
    ['a non-ASCII name', { Ü: 'x' }, 'ERR_INVALID_HEADER_NAME'],
    ['a number name in pairs', [[1, 'x']], 'ERR_INVALID_HEADER_NAME'],
    [
      'a name twice, in other cases',
      [
        ['X-A', '1'],
        ['x-a', '2'],
      ],
      'ERR_HEADER_CONFLICT',
    ],
    ['a pair of three', [['X-A', '1', 'extra']], 'ERR_INVALID_VALUE'],
    ['a lone string in pairs', ['X-A: 1'], 'ERR_INVALID_VALUE'],
    ['a string', 'X-A: 1', 'ERR_INVALID_VALUE'],
    ['null', null, 'ERR_INVALID_VALUE'],
    ['a number', 5, 'ERR_INVALID_VALUE'],
  ])('%s', (_label, init, expected) => {
    expect(linesOf(init)).toEqual(expected);
  });

  it('a generator of pairs that throws fails as it does (nothing half-checked is kept)', () => {
    function* pairs(): Generator<[string, string]> {
      yield ['X-A', '1'];
      throw new Error('generator failed');
    }
    expect(() => checkPartHeaders(pairs(), 'f')).toThrow('generator failed');
  });
});

describe('header values', () => {
  it.each<[unknown, boolean]>([
    ['text/plain; charset=utf-8', true],
    ['a\tb', true],
    ['', true],
    ['a\r\nb', false],
    ['a\nb', false],
    ['\0', false],
    ['\x1f', false],
    ['\x7f', false],
    [1, false],
    [undefined, false],
  ])('%j can stand in a header line: %s', (value, ok) => {
    expect(isHeaderValue(value)).toBe(ok);
    if (ok) expect(() => assertHeaderValue(value as string, 'the type', 'f')).not.toThrow();
    else {
      expect(() => assertHeaderValue(value as string, 'the type', 'f')).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_HEADER_VALUE', paramName: 'f' }),
      );
    }
  });
});

describe('takeHeader', () => {
  it('takes the header out of the lines whatever its case, and gives its value', () => {
    const lines: HeaderLine[] = [
      ['X-A', '1'],
      ['Content-Type', 'text/csv'],
    ];
    expect(takeHeader(lines, 'content-type')).toBe('text/csv');
    expect(lines).toEqual([['X-A', '1']]);
    expect(takeHeader(lines, 'content-type')).toBeUndefined();
    expect(lines).toEqual([['X-A', '1']]);
  });
});
