import { describe, expect, it } from 'vitest';
import { UploadError } from '../../src/index.js';
import { parseHttpUrl, redirectStep, type RedirectQuestion } from '../../src/http/redirect.js';

const at = new URL('https://a.example/upload');
const ask = (over: Partial<RedirectQuestion>): RedirectQuestion => ({
  status: 307,
  location: '/next',
  url: at,
  method: 'POST',
  hop: 0,
  maxRedirects: 5,
  hasBody: true,
  replayable: true,
  ...over,
});

describe('the redirect rule (a pure function of the answer and the hop)', () => {
  it.each<[string, Partial<RedirectQuestion>, { method: string; keepsBody: boolean } | undefined]>([
    ['200 is final', { status: 200 }, undefined],
    ['304 is final (not a redirect to follow)', { status: 304 }, undefined],
    ['300 is final', { status: 300 }, undefined],
    ['a 3xx without Location is final', { status: 302, location: undefined }, undefined],
    ['a 3xx with an empty Location is final, as curl and undici take it', { status: 302, location: '' }, undefined],
    ['maxRedirects 0 returns every redirect as it is', { maxRedirects: 0 }, undefined],
    ['301 after POST: a GET without body', { status: 301 }, { method: 'GET', keepsBody: false }],
    ['302 after POST: a GET without body', { status: 302 }, { method: 'GET', keepsBody: false }],
    ['301 after PUT keeps the PUT and its body', { status: 301, method: 'PUT' }, { method: 'PUT', keepsBody: true }],
    ['302 after PATCH keeps it', { status: 302, method: 'PATCH' }, { method: 'PATCH', keepsBody: true }],
    ['303 after PUT: a GET', { status: 303, method: 'PUT' }, { method: 'GET', keepsBody: false }],
    [
      '303 after HEAD stays HEAD',
      { status: 303, method: 'HEAD', hasBody: false },
      { method: 'HEAD', keepsBody: false },
    ],
    ['307 keeps method and body', { status: 307 }, { method: 'POST', keepsBody: true }],
    ['308 keeps method and body', { status: 308, method: 'PUT' }, { method: 'PUT', keepsBody: true }],
    [
      '303 drops a one-shot body instead of refusing',
      { status: 303, replayable: false },
      { method: 'GET', keepsBody: false },
    ],
    [
      'a GET (no body) follows a 307 as a GET',
      { status: 307, method: 'GET', hasBody: false },
      { method: 'GET', keepsBody: false },
    ],
  ])('%s', (_label, over, expected) => {
    const step = redirectStep(ask(over));
    if (expected === undefined) expect(step).toBeUndefined();
    else expect(step).toMatchObject(expected);
  });

  it('resolves a relative Location against the hop and says when it leaves the origin', () => {
    expect(redirectStep(ask({ location: '../x?y=1' }))).toMatchObject({
      url: new URL('https://a.example/x?y=1'),
      crossOrigin: false,
    });
    expect(redirectStep(ask({ location: 'https://b.example/' }))?.crossOrigin).toBe(true);
    expect(redirectStep(ask({ location: 'http://a.example/upload' }))?.crossOrigin).toBe(true); // another scheme
    expect(redirectStep(ask({ location: 'https://a.example:443/z' }))?.crossOrigin).toBe(false);
  });

  it.each<[string, Partial<RedirectQuestion>, string]>([
    ['past maxRedirects', { hop: 5 }, 'ERR_TOO_MANY_REDIRECTS'],
    ['a Location that is no URL', { location: 'http://[::1' }, 'ERR_INVALID_URL'],
    ['a Location to another scheme', { location: 'ftp://a.example/' }, 'ERR_INVALID_URL'],
    ['a Location to a file', { location: 'file:///etc/passwd' }, 'ERR_INVALID_URL'],
    ['a 307 of a one-shot body already read', { replayable: false }, 'ERR_BODY_NOT_REPLAYABLE'],
    ['a 308 of a one-shot body already read', { status: 308, replayable: false }, 'ERR_BODY_NOT_REPLAYABLE'],
  ])('%s: a typed error', (_label, over, code) => {
    let error: unknown;
    try {
      redirectStep(ask(over));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ code, url: at.href });
  });

  it('parseHttpUrl takes http and https only', () => {
    expect(parseHttpUrl('http://127.0.0.1:1/x').port).toBe('1');
    for (const bad of ['', 'no url', 'ws://h/', 'data:,x', 'javascript:alert(1)']) {
      expect(() => parseHttpUrl(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_URL' }));
    }
  });
});

describe("a Location quoted in an error is the server's text: control characters escaped, no password", () => {
  it.each<[string, Partial<RedirectQuestion>, string]>([
    [
      'past maxRedirects',
      { hop: 5, location: 'http://u:pw@b.example/\x9b2J\u202e' },
      'the last to http://***@b.example/\\x9b2J\\u202e',
    ],
    ['not http(s)', { location: 'ftp://u:pw@b.example/\x1b]0;x\x07' }, 'to "ftp://***@b.example/\\x1b]0;x\\x07"'],
  ])('%s', (_label, over, shown) => {
    let message = '';
    try {
      redirectStep(ask(over));
    } catch (caught) {
      message = (caught as Error).message;
    }
    expect(message).toContain(shown);
    expect(message).not.toMatch(/pw|[\x00-\x1f\x7f-\x9f\u202e]/);
  });
});
