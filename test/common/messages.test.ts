import { describe, expect, it } from 'vitest';
import { messageOf, withoutSignatures } from '../../src/common/messages.js';
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

describe('withoutSignatures: the values that sign a URL or carry a credential become ***', () => {
  it.each<[string, string, string]>([
    [
      'S3 presigned (SigV4), with a session token',
      'PUT https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F2026&X-Amz-Security-Token=IQoJb3&X-Amz-Signature=9f86d0&partNumber=2 failed',
      'PUT https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***&X-Amz-Security-Token=***&X-Amz-Signature=***&partNumber=2 failed',
    ],
    [
      'S3 query signature (SigV2)',
      'http://h/k?AWSAccessKeyId=A&Expires=1&Signature=abc%2B',
      'http://h/k?AWSAccessKeyId=A&Expires=1&Signature=***',
    ],
    [
      'Google Cloud Storage V4, any case',
      'https://s/b/o?x-goog-credential=c&X-GOOG-SIGNATURE=5e1f#f',
      'https://s/b/o?x-goog-credential=***&X-GOOG-SIGNATURE=***#f',
    ],
    [
      'Azure SAS, an API key, an OAuth token',
      'u?sv=1&sig=s%3D&key=AIza&access_token=ya29',
      'u?sv=1&sig=***&key=***&access_token=***',
    ],
    ['in quotes, twice', '"http://a/?sig=1" and "http://b/?sig=2"', '"http://a/?sig=***" and "http://b/?sig=***"'],
    [
      'names that only end like one',
      'http://h/?mykey=1&designature=2&keys=3',
      'http://h/?mykey=1&designature=2&keys=3',
    ],
    ['an empty value', 'http://h/?sig=&a=1', 'http://h/?sig=***&a=1'],
    ['no query', 'signature=1 key=2', 'signature=1 key=2'],
    [
      'a percent-encoded name, as a server decodes it',
      'u?X%2DAmz%2DSignature=s&x%2dgoog%2dsignature=t',
      'u?X%2DAmz%2DSignature=***&x%2dgoog%2dsignature=***',
    ],
    ['after a semicolon', 'u?a=1;sig=s', 'u?a=1;sig=***'],
    ['HTML-escaped, as a quoted answer body holds it', 'u?a=1&amp;X-Amz-Signature=s', 'u?a=1&amp;X-Amz-Signature=***'],
    ['a name that does not decode', 'u?%E0%A4%A=1&sig=2', 'u?%E0%A4%A=1&sig=***'],
  ])('%s', (_label, text, expected) => {
    expect(withoutSignatures(text)).toBe(expected);
  });
});
