import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { multipartEncode, rawBody, upload, UploadError, type UploadOptions } from '../../src/index.js';
import { json, startServer } from '../helpers/servers.js';

const codeOf = (error: unknown) => (error instanceof UploadError ? error.code : `untyped: ${String(error)}`);

/** NaN, ±Infinity, 2**31, 2**53, negative, fractional and non-numbers, for every numeric option. */
function numbersOutOfRange(): Array<[string, Record<string, unknown>, string]> {
  const bad = [NaN, Infinity, -Infinity, -1, 1.5, '10', null];
  const notMs = bad.filter((value) => value !== 1.5); // a fraction of a millisecond is a delay a timer takes
  const options: Array<[string, (value: unknown) => Record<string, unknown>, unknown[]]> = [
    ['timeout', (v) => ({ timeout: v }), [...notMs, 0, 2 ** 31]],
    ['expectTimeout', (v) => ({ expectTimeout: v }), [...notMs, 2 ** 31]],
    ['maxRedirects', (v) => ({ maxRedirects: v }), [...bad, 2 ** 53]],
    ['expectContinue', (v) => ({ expectContinue: v }), [...bad, 2 ** 53]],
    ['blockSize', (v) => ({ blockSize: v }), [...bad, 0]],
    ['spool.memoryLimit', (v) => ({ spool: { memoryLimit: v } }), bad],
    ['spool.maxBytes', (v) => ({ spool: { maxBytes: v } }), bad],
    ['retry', (v) => ({ retry: v }), [NaN, Infinity, -1, 1.5, 1001, 2 ** 31]],
    ['retry.limit', (v) => ({ retry: { limit: v } }), [...bad, 1001]],
    ['retry.backoff', (v) => ({ retry: { backoff: v } }), [NaN, Infinity, -1, 2 ** 31, '1']],
    ['retry.maxRetryAfter', (v) => ({ retry: { maxRetryAfter: v } }), [...notMs, 2 ** 31]],
    ['retry.maxRetryTime', (v) => ({ retry: { maxRetryTime: v } }), [...notMs, 2 ** 31]],
  ];
  return options.flatMap(([name, make, values]) =>
    values.map((value): [string, Record<string, unknown>, string] => [
      `${name} of ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
      make(value),
      'ERR_INVALID_OPTION',
    ]),
  );
}

describe('hostile options: each is an error naming it, before anything is sent', () => {
  const rows: Array<[string, Record<string, unknown>, string]> = [
    ['an unknown option', { onProgress: () => {} }, 'ERR_INVALID_OPTION'],
    ['timeout of 2**31', { timeout: 2 ** 31 }, 'ERR_INVALID_OPTION'],
    ['timeout of Infinity', { timeout: Infinity }, 'ERR_INVALID_OPTION'],
    ['a negative timeout', { timeout: -1 }, 'ERR_INVALID_OPTION'],
    ['expectTimeout of Infinity', { expectTimeout: Infinity }, 'ERR_INVALID_OPTION'],
    ['maxRedirects NaN', { maxRedirects: NaN }, 'ERR_INVALID_OPTION'],
    ['maxRedirects -1', { maxRedirects: -1 }, 'ERR_INVALID_OPTION'],
    ['expectContinue "yes"', { expectContinue: 'yes' }, 'ERR_INVALID_OPTION'],
    ['a method with a space', { method: 'PO ST' }, 'ERR_INVALID_OPTION'],
    ['a method that is not a string', { method: 7 }, 'ERR_INVALID_OPTION'],
    [
      'CONNECT (a tunnel, whose answer Node never hands over as a response)',
      { method: 'connect' },
      'ERR_INVALID_OPTION',
    ],
    ['an agent that is not one', { agent: {} }, 'ERR_INVALID_OPTION'],
    ['a signal that is not one', { signal: 'stop' }, 'ERR_INVALID_OPTION'],
    ['onUploadProgress not a function', { onUploadProgress: 1 }, 'ERR_INVALID_OPTION'],
    ['onBodySent not a function', { onBodySent: 'yes' }, 'ERR_INVALID_OPTION'],
    ['an unknown tls option', { tls: { certificate: 'x' } }, 'ERR_INVALID_OPTION'],
    ['retry -1', { retry: -1 }, 'ERR_INVALID_OPTION'],
    ['retry 1.5', { retry: 1.5 }, 'ERR_INVALID_OPTION'],
    ['retry "3"', { retry: '3' }, 'ERR_INVALID_OPTION'],
    ['retry as an array', { retry: [3] }, 'ERR_INVALID_OPTION'],
    ['an unknown retry option', { retry: { limits: 3 } }, 'ERR_INVALID_OPTION'],
    ['retry.limit over 1000', { retry: { limit: 1001 } }, 'ERR_INVALID_OPTION'],
    ['retry.methods not an array', { retry: { methods: 'PUT' } }, 'ERR_INVALID_OPTION'],
    ['retry.methods with a space', { retry: { methods: ['P UT'] } }, 'ERR_INVALID_OPTION'],
    ['retry.statusCodes with 200', { retry: { statusCodes: [200] } }, 'ERR_INVALID_OPTION'],
    ['retry.statusCodes with "503"', { retry: { statusCodes: ['503'] } }, 'ERR_INVALID_OPTION'],
    ['retry.errorCodes with a number', { retry: { errorCodes: [1] } }, 'ERR_INVALID_OPTION'],
    ['retry.errorCodes "all"', { retry: { errorCodes: 'all' } }, 'ERR_INVALID_OPTION'],
    ['retry.backoff negative', { retry: { backoff: -1 } }, 'ERR_INVALID_OPTION'],
    ['retry.backoff "fast"', { retry: { backoff: 'fast' } }, 'ERR_INVALID_OPTION'],
    ['retry.maxRetryAfter Infinity', { retry: { maxRetryAfter: Infinity } }, 'ERR_INVALID_OPTION'],
    ['retry.maxRetryTime NaN', { retry: { maxRetryTime: NaN } }, 'ERR_INVALID_OPTION'],
    ['retry.onRetry not a function', { retry: { onRetry: 1 } }, 'ERR_INVALID_OPTION'],
    ['a header name with a space', { headers: { 'bad name': 'x' } }, 'ERR_INVALID_HEADER'],
    ['a header value with CR LF', { headers: { 'x-a': 'a\r\nx-b: injected' } }, 'ERR_INVALID_HEADER'],
    ['a Content-Length that differs', { headers: { 'content-length': '1' } }, 'ERR_INVALID_HEADER'],
    ['Transfer-Encoding', { headers: { 'transfer-encoding': 'chunked' } }, 'ERR_INVALID_HEADER'],
    [
      'a multipart Content-Type without the boundary',
      { headers: { 'content-type': 'multipart/form-data' } },
      'ERR_INVALID_HEADER',
    ],
    ['a header value with DEL', { headers: { 'x-a': 'a\x7fb' } }, 'ERR_INVALID_HEADER'],
    ['a header value with ESC', { headers: { 'x-a': '\x1b[31mred' } }, 'ERR_INVALID_HEADER'],
    ['a header value with NUL', { headers: { 'x-a': 'a\0b' } }, 'ERR_INVALID_HEADER'],
    ['a header value beyond latin-1', { headers: { 'x-a': '€' } }, 'ERR_INVALID_HEADER'],
    ['headers that are a number', { headers: 5 }, 'ERR_INVALID_HEADER'],
    ['Expect', { headers: { expect: '100-continue' } }, 'ERR_INVALID_HEADER'],
    // every number out of range, and every misspelling, for each option
    ...numbersOutOfRange(),
    ...[
      ['timeOut', { timeOut: 1000 }],
      ['maxRedirect', { maxRedirect: 1 }],
      ['header', { header: {} }],
      ['retries', { retries: 3 }],
      ['expectcontinue', { expectcontinue: false }],
      ['tls.rejectUnauthorised', { tls: { rejectUnauthorised: false } }],
      ['spool.maxbytes', { spool: { maxbytes: 1 } }],
      ['retry.limits', { retry: { limits: 1 } }],
      ['__proto__ as an own key', JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>],
    ].map(([name, options]): [string, Record<string, unknown>, string] => [
      `misspelt: ${String(name)}`,
      options as Record<string, unknown>,
      'ERR_INVALID_OPTION',
    ]),
    ['spool beside an encoded body is checked first', { spool: 'yes' }, 'ERR_INVALID_OPTION'],
    ['a boundary RFC 2046 does not allow', { boundary: 'bad boundary ' }, 'ERR_INVALID_OPTION'],
    ['a boundary that is a number', { boundary: 5 }, 'ERR_INVALID_OPTION'],
    ['tls that is a string', { tls: 'on' }, 'ERR_INVALID_OPTION'],
    [
      'tls.servername that is a number (node:tls would throw from a socket)',
      { tls: { servername: 5 } },
      'ERR_INVALID_OPTION',
    ],
    ['tls.rejectUnauthorized "no"', { tls: { rejectUnauthorized: 'no' } }, 'ERR_INVALID_OPTION'],
    ['tls.ca that is a number', { tls: { ca: 5 } }, 'ERR_INVALID_OPTION'],
    ['tls.ca with a number inside', { tls: { ca: ['x', 5] } }, 'ERR_INVALID_OPTION'],
    ['tls.minVersion TLSv9', { tls: { minVersion: 'TLSv9' } }, 'ERR_INVALID_OPTION'],
    ['tls.passphrase that is a Buffer', { tls: { passphrase: Buffer.from('x') } }, 'ERR_INVALID_OPTION'],
    ['options that are an array', [] as unknown as Record<string, unknown>, 'ERR_INVALID_OPTION'],
  ];
  for (const [label, options, expected] of rows) {
    it(label, async () => {
      let requests = 0;
      const server = await startServer((_req, res) => {
        requests++;
        json(res, 200, {});
      });
      const error = await upload(server.url, { a: 'x' }, options as UploadOptions).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(codeOf(error)).toBe(expected);
      expect((error as Error).message).not.toMatch(/undefined undefined|a Object/);
      // the message names the option at fault
      const [name] = Object.keys(options);
      if (expected === 'ERR_INVALID_OPTION' && name !== undefined && !label.startsWith('misspelt'))
        expect((error as Error).message).toContain(name);
      if (expected === 'ERR_INVALID_OPTION' && name === 'retry') {
        const field =
          typeof options.retry === 'object' && options.retry !== null && !Array.isArray(options.retry)
            ? Object.keys(options.retry)[0]
            : undefined;
        expect((error as Error).message).toContain(
          field === undefined || field === 'limits' ? 'retry' : `retry.${field}`,
        );
      }
      expect(requests).toBe(0);
    });
  }
});

describe('timeouts: fractions kept, under 1 ms refused', () => {
  it('timeout 0 and 0.5 are ERR_INVALID_OPTION saying to leave it out; a fraction, and expectTimeout 0 or 0.5, are taken', async () => {
    const server = await startServer((req, res) => {
      req.resume();
      req.on('end', () => json(res, 200, {}));
    });
    for (const timeout of [0, 0.5]) {
      await expect(upload(server.url, { a: 'x' }, { timeout })).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining(
          'timeout must be a number of milliseconds from 1 to 2147483647 (leave it out for none)',
        ),
      });
    }
    for (const options of [{ timeout: 60_000.5 }, { expectTimeout: 0, expectContinue: true }, { expectTimeout: 0.5 }]) {
      const response = await upload(server.url, { a: 'x' }, options);
      expect(response.status).toBe(200);
      await response.text();
    }
  });
});

describe("the caller's Content-Type", () => {
  it('wins for a raw body; for a multipart body it is sent when it carries the boundary', async () => {
    const seen: string[] = [];
    const server = await startServer((req, res) => {
      seen.push(req.headers['content-type']!);
      req.resume();
      req.on('end', () => json(res, 200, {}));
    });
    await (
      await upload(server.url, await rawBody('fixtures/files/data.json'), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
      })
    ).text();
    const form = await multipartEncode({ a: 'x' });
    await (
      await upload(server.url, form, {
        headers: { 'Content-Type': `multipart/form-data; boundary="${form.boundary}"` },
      })
    ).text();
    expect(seen).toEqual(['application/octet-stream', `multipart/form-data; boundary="${form.boundary}"`]);
  });
});

describe('long-lived objects', () => {
  it("200 uploads whose responses are never read leave at most one listener on the caller's signal", async () => {
    const server = await startServer((req, res) => {
      req.resume();
      req.on('end', () => json(res, 200, { big: 'x'.repeat(100) }));
    });
    const controller = new AbortController();
    for (let i = 0; i < 200; i++) await upload(server.url, { n: String(i) }, { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1);
  });
});
