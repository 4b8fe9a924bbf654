import { describe, expect, it } from 'vitest';
import { messageOf } from '../../src/common/messages.js';
import { hasBrand } from '../../src/common/errors.js';

const trapping = () =>
  new Proxy(
    {},
    {
      get() {
        throw new Error('trap');
      },
      getPrototypeOf() {
        throw new Error('trap');
      },
    },
  );

describe('messageOf: the text of anything thrown, never a throw of its own', () => {
  const withThrowingMessage = Object.defineProperty(new Error('x'), 'message', {
    get() {
      throw new Error('getter');
    },
  });
  it.each<[string, unknown, string | RegExp]>([
    ['an Error', new Error('boom'), 'boom'],
    ['a string', 'plain', 'plain'],
    ['undefined', undefined, 'undefined'],
    ['a symbol', Symbol('s'), 'Symbol(s)'],
    ['an object with a message', { message: 'said' }, 'said'],
    ['an object with no prototype', Object.create(null), /^a thrown object that cannot be shown as text$/],
    [
      'an object whose toString throws',
      {
        toString: () => {
          throw new Error('no');
        },
      },
      /cannot be shown/,
    ],
    ['a Proxy whose traps throw', trapping(), /cannot be shown/],
    ['an Error whose message getter throws', withThrowingMessage, /cannot be shown/],
  ])('%s', (_label, value, expected) => {
    expect(messageOf(value)).toMatch(expected);
  });
});

describe("hasBrand (instanceof of the library's errors): false, never a throw, for a hostile value", () => {
  it('a Proxy whose traps throw', () => {
    expect(hasBrand(trapping(), Symbol.for('multipart-poster.UploadError'))).toBe(false);
  });
});
