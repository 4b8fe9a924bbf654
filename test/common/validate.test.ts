import { describe as group, expect, it } from 'vitest';
import { MultipartError, UploadError } from '../../src/common/errors.js';
import {
  checkByteCount,
  checkByteRange,
  checkFunction,
  checkInteger,
  checkMilliseconds,
  checkOptionKeys,
  checkSignal,
  checkString,
  describe,
  encodeOptionError,
  MAX_TIMER_MS,
  TOKEN,
  uploadOptionError,
  type OptionRegistry,
} from '../../src/common/validate.js';

/** What a check does with a value: returns it (as the check gives it back) or throws this message. */
function outcome(check: () => unknown): unknown {
  try {
    return { returned: check() };
  } catch (error) {
    expect(error).toBeInstanceOf(MultipartError);
    expect((error as MultipartError).code).toBe('ERR_INVALID_OPTION');
    return { threw: (error as Error).message };
  }
}

const revoked = Proxy.revocable({}, {});
revoked.revoke();
const throwingConstructor = Object.defineProperty({}, 'constructor', {
  get() {
    throw new Error('no');
  },
});

group('describe: a value as an error message names it, whatever it is', () => {
  it.each<[string, unknown, string]>([
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['a string', 'a"b', '"a\\"b"'],
    ['NaN', NaN, 'number NaN'],
    ['Infinity', -Infinity, 'number -Infinity'],
    ['a bigint', 10n, 'bigint 10'],
    ['a symbol', Symbol('s'), 'symbol Symbol(s)'],
    ['a boolean', false, 'boolean false'],
    ['an array', [1], 'an array'],
    ['a plain object', { a: 1 }, 'an object'],
    ['an object without a prototype', Object.create(null), 'an object'],
    ['a Map', new Map(), 'a Map'],
    ['an Error (a class name that starts with a vowel)', new Error('x'), 'an Error'],
    ['a class instance', new (class Thing {})(), 'a Thing'],
    ['a named function', function named() {}, 'function named'],
    ['an arrow function', () => {}, 'function (anonymous)'],
    ['a revoked Proxy', revoked.proxy, 'an object'],
    ['an object whose constructor getter throws', throwingConstructor, 'an object'],
  ])('%s', (_label, value, expected) => {
    expect(describe(value)).toBe(expected);
  });
});

interface Options {
  alpha?: number;
  beta?: string;
}
const REGISTRY: OptionRegistry<Options> = { alpha: true, beta: true };

group('checkOptionKeys: every key known, from a registry or a list', () => {
  const inherited = Object.create({ gamma: 1 }) as Options;
  const protoKey = JSON.parse('{"__proto__": 1}') as Options;
  const symbolKey = { [Symbol('x')]: 1, alpha: 1 } as Options;
  it.each<[string, unknown, string | undefined]>([
    ['no options', undefined, undefined],
    ['known keys', { alpha: 1, beta: 'b' }, undefined],
    ['an empty object', {}, undefined],
    ['a misspelt key', { alpah: 1 }, 'unknown option "alpah" in options; known: alpha, beta'],
    ['an Object.prototype name', { toString: 1 }, 'unknown option "toString" in options; known: alpha, beta'],
    ['an own __proto__ key', protoKey, 'unknown option "__proto__" in options; known: alpha, beta'],
    ['inherited keys (not own: ignored)', inherited, undefined],
    ['symbol keys (ignored)', symbolKey, undefined],
    ['null', null, 'options must be an object, not null'],
    ['an array', [], 'options must be an object, not an array'],
    ['a string', 'alpha', 'options must be an object, not "alpha"'],
    ['a number', 1, 'options must be an object, not number 1'],
    ['a function', () => {}, 'options must be an object, not function (anonymous)'],
  ])('%s', (_label, options, message) => {
    for (const known of [REGISTRY, ['alpha', 'beta']]) {
      const result = outcome(() => checkOptionKeys(options as Options, known, encodeOptionError));
      if (message === undefined) expect(result).toEqual({ returned: options ?? {} });
      else expect(result).toEqual({ threw: message });
    }
  });

  it("names the options object it checks, and throws the caller's error class", () => {
    expect(() => checkOptionKeys({ x: 1 } as Options, REGISTRY, uploadOptionError, 'retry')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('in retry;') }),
    );
    expect(() => checkOptionKeys({ x: 1 } as Options, REGISTRY, uploadOptionError)).toThrow(UploadError);
  });
});

group('number checks: NaN, Infinity, fractions, out of range and non-numbers fail', () => {
  const hostile: unknown[] = [NaN, Infinity, -Infinity, 1.5, -1, 2 ** 53, '1', 1n, null, true, [1], {}];
  it.each(hostile)('checkByteCount(%s) fails', (value) => {
    expect(outcome(() => checkByteCount(value, 'size', encodeOptionError))).toEqual({
      threw: `size must be a whole number of bytes, at least 0, not ${describe(value)}`,
    });
  });

  it.each<[unknown, number, number | undefined]>([
    [undefined, 0, undefined],
    [0, 0, 0],
    [-0, 0, 0],
    [1, 1, 1],
    [2 ** 31, 0, 2 ** 31],
    [Number.MAX_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER],
  ])('checkByteCount(%s, min %i) is %s', (value, min, expected) => {
    const counted = checkByteCount(value, 'size', encodeOptionError, min);
    expect(Object.is(counted, expected)).toBe(true);
  });

  it('checkByteCount refuses what is below its minimum', () => {
    expect(outcome(() => checkByteCount(0, 'blockSize', encodeOptionError, 1))).toEqual({
      threw: 'blockSize must be a whole number of bytes, at least 1, not number 0',
    });
  });

  it.each<[unknown, number, number, boolean]>([
    [3, 0, 5, true],
    [5, 0, 5, true],
    [6, 0, 5, false],
    [-1, 0, 5, false],
    [0, 1, 5, false],
    [NaN, 0, 5, false],
    [2.5, 0, 5, false],
    ['3', 0, 5, false],
  ])('checkInteger(%s) in [%i, %i]: %s', (value, min, max, ok) => {
    const result = outcome(() => checkInteger(value, 'n', encodeOptionError, min, max));
    expect(result).toEqual(
      ok ? { returned: value } : { threw: `n must be a whole number from ${min} to ${max}, not ${describe(value)}` },
    );
  });

  it.each<[unknown, boolean]>([
    [undefined, true],
    [1, true],
    [1.5, true],
    [MAX_TIMER_MS, true],
    [MAX_TIMER_MS + 1, false],
    [0, false],
    [-1, false],
    [Infinity, false],
    [NaN, false],
    ['10', false],
  ])('checkMilliseconds(%s): %s', (value, ok) => {
    const result = outcome(() => checkMilliseconds(value, 'timeout', encodeOptionError));
    expect('returned' in (result as object)).toBe(ok);
  });

  it.each<[unknown, number, string]>([
    [0, 1, 'timeout must be a number of milliseconds from 1 to 2147483647 (leave it out for none), not number 0'],
    [0.5, 1, 'timeout must be a number of milliseconds from 1 to 2147483647 (leave it out for none), not number 0.5'],
    [-1, 1, 'timeout must be a number of milliseconds from 1 to 2147483647, not number -1'],
    [-1, 0, 'timeout must be a number of milliseconds from 0 to 2147483647, not number -1'],
  ])('checkMilliseconds(%s) from %s says why: %s', (value, min, message) => {
    expect(outcome(() => checkMilliseconds(value, 'timeout', encodeOptionError, min))).toEqual({ threw: message });
  });

  it('MAX_TIMER_MS is the longest delay a timer holds', () => {
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
  });
});

group('checkFunction, checkString, checkSignal', () => {
  it.each<[string, () => unknown, boolean]>([
    ['a function', () => checkFunction(() => {}, 'cb', encodeOptionError), true],
    ['no function', () => checkFunction(undefined, 'cb', encodeOptionError), true],
    ['a string for a function', () => checkFunction('f', 'cb', encodeOptionError), false],
    ['a string', () => checkString('x', 'dir', encodeOptionError), true],
    ['a String object', () => checkString(new String('x'), 'dir', encodeOptionError), false],
    ['a number for a string', () => checkString(1, 'dir', encodeOptionError), false],
    ['an AbortSignal', () => checkSignal(new AbortController().signal, 'signal', encodeOptionError), true],
    [
      "another realm's signal (by shape)",
      () =>
        checkSignal({ aborted: false, addEventListener() {}, removeEventListener() {} }, 'signal', encodeOptionError),
      true,
    ],
    [
      'a signal without removeEventListener',
      () => checkSignal({ aborted: false, addEventListener() {} }, 'signal', encodeOptionError),
      false,
    ],
    ['an AbortController', () => checkSignal(new AbortController(), 'signal', encodeOptionError), false],
    ['null for a signal', () => checkSignal(null, 'signal', encodeOptionError), false],
  ])('%s', (_label, check, ok) => {
    expect('returned' in (outcome(check) as object)).toBe(ok);
  });
});

group('checkByteRange: start inclusive, end exclusive, within the data, as Blob.slice counts', () => {
  it.each<[unknown, unknown, number, [number, number] | string]>([
    [undefined, undefined, 10, [0, 10]],
    [2, undefined, 10, [2, 10]],
    [undefined, 4, 10, [0, 4]],
    [3, 3, 10, [3, 3]],
    [0, 0, 0, [0, 0]],
    [10, 10, 10, [10, 10]],
    [-0, -0, 10, [0, 0]],
    [4, 3, 10, 'bytes 4 to 3 are not within the file, which holds 10'],
    [0, 11, 10, 'bytes 0 to 11 are not within the file, which holds 10'],
    [-1, 5, 10, 'start must be a whole number of bytes, not number -1'],
    [0, NaN, 10, 'end must be a whole number of bytes, not number NaN'],
    [1.5, 5, 10, 'start must be a whole number of bytes, not number 1.5'],
    ['1', 5, 10, 'start must be a whole number of bytes, not "1"'],
    [0, Infinity, 10, 'end must be a whole number of bytes, not number Infinity'],
  ])('start %s, end %s of %i bytes', (start, end, length, expected) => {
    let result: unknown;
    try {
      result = checkByteRange(start, end, length, 'the file', 'f');
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_INVALID_RANGE', paramName: 'f' });
      result = (error as Error).message.replace(/^field "f": /, '');
    }
    if (Array.isArray(result)) {
      expect(result).toEqual(expected);
      expect(result.every((bound) => !Object.is(bound, -0))).toBe(true);
    } else expect(result).toBe(expected);
  });
});

group('TOKEN (RFC 9110 §5.6.2)', () => {
  it.each<[string, boolean]>([
    ['Content-ID', true],
    ["!#$%&'*+-.^_`|~09azAZ", true],
    ['', false],
    ['a b', false],
    ['a:b', false],
    ['a"b', false],
    ['ü', false],
    ['a\r\n', false],
  ])('%j: %s', (value, ok) => {
    expect(TOKEN.test(value)).toBe(ok);
  });
});

group('option errors', () => {
  it('encodeOptionError is a MultipartError, uploadOptionError an UploadError, both ERR_INVALID_OPTION', () => {
    expect(encodeOptionError('m')).toMatchObject({ name: 'MultipartError', code: 'ERR_INVALID_OPTION', message: 'm' });
    expect(uploadOptionError('m')).toMatchObject({ name: 'UploadError', code: 'ERR_INVALID_OPTION', message: 'm' });
  });
});
