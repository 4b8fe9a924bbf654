import { describe, expect, it } from 'vitest';
import { normalizeArgs } from '../../src/cli/args.js';
import { parseOptions, type SendOptions } from '../../src/cli/options.js';

const URL = 'http://127.0.0.1:1/';
const send = (...args: string[]) => parseOptions([...args, URL]) as SendOptions;
const usageError = (args: string[]) => {
  try {
    parseOptions(args);
  } catch (error) {
    expect(error).toMatchObject({ kind: 'usage' });
    const message = (error as Error).message;
    expect(message).not.toContain('\n'); // one line
    return message;
  }
  throw new Error(`no usage error for ${JSON.stringify(args)}`);
};

describe('option values are checked: each bad one is a usage error naming the option', () => {
  it.each([
    // --timeout: a positive decimal number of seconds a timer can hold (2^31-1 ms)
    [['--timeout', 'soon'], '--timeout takes a number of seconds, not "soon"'],
    [['--timeout', '0'], '--timeout takes a number of seconds above 0, not "0"'],
    [['--timeout', '0.000'], '--timeout takes a number of seconds above 0, not "0.000"'],
    [['--timeout', '-1'], '--timeout takes a number of seconds, not "-1"'],
    [['--timeout', 'Infinity'], '--timeout takes a number of seconds, not "Infinity"'],
    [['--timeout', 'NaN'], '--timeout takes a number of seconds, not "NaN"'],
    [['--timeout', '1e3'], '--timeout takes a number of seconds, not "1e3"'],
    [['--timeout', '0x10'], '--timeout takes a number of seconds, not "0x10"'],
    [['--timeout', ' 5'], '--timeout takes a number of seconds, not " 5"'],
    [['--timeout', ''], '--timeout takes a number of seconds, not ""'],
    [['--timeout', '3000000'], '--timeout takes at most 2147483 seconds (about 24 days), not "3000000"'],
    [['--timeout', '2147483.001'], '--timeout takes at most 2147483 seconds (about 24 days), not "2147483.001"'],
    // --retry: a whole number up to 1000; --retry-delay and --retry-max-time: seconds from 0
    [['--retry', '-1'], '--retry takes a whole number from 0 to 1000, not "-1"'],
    [['--retry', '1001'], '--retry takes a whole number from 0 to 1000, not "1001"'],
    [['--retry', 'many'], '--retry takes a whole number from 0 to 1000, not "many"'],
    [['--retry-delay', '-1'], '--retry-delay takes a number of seconds from 0 to 2147483, not "-1"'],
    [['--retry-delay', 'soon'], '--retry-delay takes a number of seconds from 0 to 2147483, not "soon"'],
    [['--retry-max-time', '1e3'], '--retry-max-time takes a number of seconds from 0 to 2147483, not "1e3"'],
    [['--retry-max-time', '9999999'], '--retry-max-time takes a number of seconds from 0 to 2147483, not "9999999"'],
    // -x: an http:// or https:// proxy URL
    [['-x', 'ftp://127.0.0.1:21'], '-x takes an http:// or https:// proxy, not ftp://'],
    [['--proxy', 'http://[::1'], '-x takes a proxy URL such as http://127.0.0.1:3128, not "http://[::1"'],
    // --max-redirs: a whole number, or -1 (no limit)
    [['--max-redirs', '-2'], '--max-redirs takes a whole number (or -1 for no limit), not "-2"'],
    [['--max-redirs', '1.5'], '--max-redirs takes a whole number (or -1 for no limit), not "1.5"'],
    [['--max-redirs', 'five'], '--max-redirs takes a whole number (or -1 for no limit), not "five"'],
    [['--max-redirs', ''], '--max-redirs takes a whole number (or -1 for no limit), not ""'],
    [['--max-redirs', '1e2'], '--max-redirs takes a whole number (or -1 for no limit), not "1e2"'],
    [['--max-redirs', '99999999999999999999'], '--max-redirs takes a whole number, not "99999999999999999999"'],
    // -X: an RFC 9110 token
    [['-X', 'GET X'], `-X takes an HTTP method (letters, digits and !#$%&'*+-.^_\`|~, such as PUT), not "GET X"`],
    [['-X', ''], `-X takes an HTTP method (letters, digits and !#$%&'*+-.^_\`|~, such as PUT), not ""`],
    [
      ['-X', 'PUT\r\nX-Injected: 1'],
      `-X takes an HTTP method (letters, digits and !#$%&'*+-.^_\`|~, such as PUT), not "PUT\\r\\nX-Injected: 1"`,
    ],
    [['-X', 'P(T'], `-X takes an HTTP method (letters, digits and !#$%&'*+-.^_\`|~, such as PUT), not "P(T"`],
    [['-X', 'PÜT'], `-X takes an HTTP method (letters, digits and !#$%&'*+-.^_\`|~, such as PUT), not "PÜT"`],
  ])('%j', (args, message) => {
    expect(usageError([...args, '-F', 'a=b', URL])).toBe(message);
  });

  it.each([
    [['--port', '65536'], '--port takes a whole number from 0 to 65535, not "65536"'],
    [['--port', '-1'], '--port takes a whole number from 0 to 65535, not "-1"'],
    [['--port', ''], '--port takes a whole number from 0 to 65535, not ""'], // was port 0: a random port
    [['--port', '0x50'], '--port takes a whole number from 0 to 65535, not "0x50"'],
    [['--port', '80.5'], '--port takes a whole number from 0 to 65535, not "80.5"'],
    [['--max-size', '0'], '--max-size takes a whole number of at least 1, not "0"'],
    [['--max-size', '1e6'], '--max-size takes a whole number of at least 1, not "1e6"'],
    [['--max-parts', ' 3'], '--max-parts takes a whole number of at least 1, not " 3"'],
  ])('serve %j', (args, message) => {
    expect(usageError(['serve', ...args])).toBe(message);
  });

  it('accepts the edges of each range', () => {
    expect(send('--timeout', '2147483', '-F', 'a=b').timeoutMs).toBe(2_147_483_000);
    expect(send('--retry', '3', '--retry-delay', '0.5', '--retry-max-time', '0', '-F', 'a=b')).toMatchObject({
      retry: 3,
      retryDelayMs: 500,
      retryMaxTimeMs: undefined,
    });
    expect(send('-x', '127.0.0.1:3128', '-F', 'a=b').proxy).toBe('http://127.0.0.1:3128/');
    expect(send('-x', '', '-F', 'a=b').proxy).toBe('');
    expect(send('-F', 'a=b').proxy).toBeUndefined();
    expect(send('-F', 'a=b')).toMatchObject({
      retry: 0,
      retryDelayMs: undefined,
      retryAllErrors: false,
      retryConnrefused: false,
    });
    expect(send('--timeout', '.5', '-F', 'a=b').timeoutMs).toBe(500);
    expect(send('--timeout', '1.1', '-F', 'a=b').timeoutMs).toBe(1100); // whole milliseconds
    expect(send('--timeout', '0.0001', '-F', 'a=b').timeoutMs).toBe(1); // never 0
    expect(send('--max-redirs', '0', '-F', 'a=b').maxRedirects).toBe(0);
    expect(send('-F', 'a=b').maxRedirects).toBe(5);
    expect(send('-X', "M-S#$%&'*+.^_`|~1", '-F', 'a=b').method).toBe("M-S#$%&'*+.^_`|~1");
    expect(parseOptions(['serve', '--port', '65535'])).toMatchObject({ port: 65535 });
    expect(parseOptions(['serve', '--port', '0'])).toMatchObject({ port: 0 });
    expect(parseOptions(['serve'])).toMatchObject({ port: 5000 });
  });

  it('--max-redirs -1 is no limit, as in curl, written either way', () => {
    expect(send('--max-redirs', '-1', '-F', 'a=b').maxRedirects).toBe(Number.MAX_SAFE_INTEGER);
    expect(send('--max-redirs=-1', '-F', 'a=b').maxRedirects).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('-H', () => {
  it.each([
    [
      'Bad Name: x',
      `bad -H "Bad Name: x": "Bad Name" is not a header name (letters, digits and !#$%&'*+-.^_\`|~, nothing else, not even a space)`,
    ],
    [
      'a\u0000: b',
      `bad -H "a\\u0000: b": "a\\u0000" is not a header name (letters, digits and !#$%&'*+-.^_\`|~, nothing else, not even a space)`,
    ],
    [
      'Name : x',
      `bad -H "Name : x": "Name " is not a header name (letters, digits and !#$%&'*+-.^_\`|~, nothing else, not even a space)`,
    ],
    [
      ' Name: x',
      `bad -H " Name: x": " Name" is not a header name (letters, digits and !#$%&'*+-.^_\`|~, nothing else, not even a space)`,
    ],
    [
      'Nämé: x',
      `bad -H "Nämé: x": "Nämé" is not a header name (letters, digits and !#$%&'*+-.^_\`|~, nothing else, not even a space)`,
    ],
    [
      'X(y): x',
      `bad -H "X(y): x": "X(y)" is not a header name (letters, digits and !#$%&'*+-.^_\`|~, nothing else, not even a space)`,
    ],
    ['no colon', `bad -H "no colon": expected 'Name: value'`],
    [': value', `bad -H ": value": expected 'Name: value'`],
    ['X-A: a\r\nX-B: b', 'bad -H "X-A: a\\r\\nX-B: b": a header value cannot hold a line break'],
    ['X-A: a\u0000b', 'bad -H "X-A: a\\u0000b": a header value cannot hold a control character'],
    ['X-A: a\u0001b', 'bad -H "X-A: a\\u0001b": a header value cannot hold a control character'],
    ['X-A: a\u007fb', 'bad -H "X-A: a\u007fb": a header value cannot hold a control character'],
    ['Content-Length: 5', 'bad -H "Content-Length: 5": Content-Length is set from the body and cannot be changed'],
    [
      'transfer-encoding: chunked',
      'bad -H "transfer-encoding: chunked": transfer-encoding is set from the body and cannot be changed',
    ],
    [
      'Expect: something',
      `bad -H "Expect: something": only 'Expect: 100-continue' (or 'Expect:' to send none) can be asked for`,
    ],
    ['Content-Type:', 'bad -H "Content-Type:": the body needs a Content-Type; it cannot be removed'],
  ])('%j is a usage error', (header, message) => {
    expect(usageError(['-H', header, '-F', 'a=b', URL])).toBe(message);
  });

  it('keeps a valid header, trimming spaces and tabs around the value; a tab inside is allowed', () => {
    expect(send('-H', "X-Ok!#$%&'*+.^_`|~: \t a\tb \t", '-F', 'a=b').headers).toEqual([["X-Ok!#$%&'*+.^_`|~", 'a\tb']]);
  });

  it('sends a UTF-8 value as its UTF-8 bytes, as curl does (one char per byte, as node writes header strings)', () => {
    expect(send('-H', 'X-Snow: ☃é', '-F', 'a=b').headers).toEqual([['X-Snow', '\u00e2\u0098\u0083\u00c3\u00a9']]);
  });

  it("Expect: 'Expect:' turns it off, 'Expect: 100-continue' on; contradictions are usage errors", () => {
    expect(send('-H', 'Expect:', '-F', 'a=b')).toMatchObject({ expectContinue: false, headers: [] });
    expect(send('-H', 'expect: 100-Continue', '-F', 'a=b')).toMatchObject({ expectContinue: true, headers: [] });
    expect(usageError(['-H', 'Expect:', '--expect-continue', '-F', 'a=b', URL])).toBe(
      '-H Expect contradicts --expect-continue',
    );
    expect(usageError(['-H', 'Expect: 100-continue', '--no-expect-continue', '-F', 'a=b', URL])).toBe(
      '-H Expect contradicts --no-expect-continue',
    );
    expect(usageError(['-H', 'Expect: 100-continue', '-H', 'Expect:', '-F', 'a=b', URL])).toBe(
      'bad -H "Expect:": contradicts the -H Expect before it',
    );
  });
});

describe('-H Content-Type', () => {
  it('is the type of a --data-binary body, and not an extra header besides', () => {
    const options = send('-H', 'content-type: application/x-tar; charset=binary', '--data-binary', '@backup.tar');
    expect(options).toMatchObject({ contentType: 'application/x-tar; charset=binary', headers: [] });
  });

  it('with -F, multipart/form-data is accepted: the encoder adds the boundary', () => {
    expect(send('-H', 'Content-Type: Multipart/Form-Data', '-F', 'a=b')).toMatchObject({
      contentType: undefined,
      headers: [],
      boundary: undefined,
    });
    expect(send('-H', 'Content-Type: multipart/form-data;', '-F', 'a=b')).toMatchObject({ boundary: undefined });
  });

  it('with -F, a boundary there is used as --boundary would be', () => {
    expect(send('-H', 'Content-Type: multipart/form-data; boundary=abc', '-F', 'a=b').boundary).toBe('abc');
    expect(send('-H', 'Content-Type: multipart/form-data; BOUNDARY="a b"', '-F', 'a=b').boundary).toBe('a b');
    expect(
      send('-H', 'Content-Type: multipart/form-data; boundary=abc', '--boundary', 'abc', '-F', 'a=b').boundary,
    ).toBe('abc');
  });

  it.each([
    [
      'text/plain',
      '-H "Content-Type: text/plain" with -F: -F sends a multipart body (multipart/form-data, or multipart/related, mixed...); to send a file as text/plain, use --data-binary @FILE',
    ],
    [
      'multipart/',
      '-H "Content-Type: multipart/" with -F: -F sends a multipart body (multipart/form-data, or multipart/related, mixed...); to send a file as multipart/, use --data-binary @FILE',
    ],
    [
      'multipart/related; type',
      '-H "Content-Type: multipart/related; type" with -F: "type" is not a key=value parameter',
    ],
    [
      'multipart/form-data; boundary=a; boundary=b',
      '-H "Content-Type: multipart/form-data; boundary=a; boundary=b" with -F: the boundary is given twice',
    ],
  ])('with -F, %j is a usage error, never silently replaced', (type, message) => {
    expect(usageError(['-H', `Content-Type: ${type}`, '-F', 'a=b', URL])).toBe(message);
  });

  it('with -F, multipart/SUBTYPE picks the subtype; its other parameters go into the header as given, never dropped', () => {
    expect(
      send('-H', 'Content-Type: multipart/related; type="application/json"; boundary=xyz', '-F', 'a=b'),
    ).toMatchObject({
      subtype: 'related',
      boundary: 'xyz',
      parameters: [['type', 'application/json']],
    });
    expect(send('-H', 'Content-Type: Multipart/Mixed', '-F', 'a=b')).toMatchObject({
      subtype: 'mixed',
      parameters: [],
    });
    expect(send('-H', 'Content-Type: multipart/form-data; charset=utf-8', '-F', 'a=b')).toMatchObject({
      subtype: 'form-data',
      parameters: [['charset', 'utf-8']],
    });
    expect(send('-H', 'Content-Type: multipart/related; start="<a;b>"', '-F', 'a=b').parameters).toEqual([
      ['start', '<a;b>'],
    ]);
  });

  it('with -F, a boundary contradicting --boundary, or Content-Type twice, is a usage error', () => {
    expect(
      usageError(['-H', 'Content-Type: multipart/form-data; boundary=abc', '--boundary', 'xyz', '-F', 'a=b', URL]),
    ).toBe(
      '-H "Content-Type: multipart/form-data; boundary=abc" with -F: its boundary "abc" contradicts --boundary "xyz"',
    );
    expect(usageError(['-H', 'Content-Type: a/b', '-H', 'content-type: c/d', '--data-binary', '@f', URL])).toBe(
      'bad -H "content-type: c/d": Content-Type is given twice',
    );
  });

  it('--boundary with --data-binary is a usage error: there is no multipart body for it', () => {
    expect(usageError(['--boundary', 'x', '--data-binary', '@f', URL])).toBe(
      '--boundary is for -F (multipart); --data-binary sends the file alone',
    );
  });
});

describe('an option value may start with "-", as in curl', () => {
  it.each([
    [
      ['--max-redirs', '-1', '-F', 'a=b'],
      ['--max-redirs=-1', '--form=a=b'],
    ],
    [['-H', '-x: y'], ['--header=-x: y']],
    [['-o', '-'], ['--output=-']],
    [
      ['-iLF', '-a=b'],
      ['-i', '-L', '--form=-a=b'],
    ],
    [
      ['-Fa=b', '--form=c=d'],
      ['-Fa=b', '--form=c=d'],
    ], // attached values are left alone
    [
      ['-v', '-i'],
      ['-v', '-i'],
    ],
    [['-H'], ['-H']], // a missing value is for parseArgs to report
    [
      ['-F', 'a=b', '--', '-X', 'y'],
      ['--form=a=b', '--', '-X', 'y'],
    ], // nothing after --
    [
      ['-zF', 'a=b'],
      ['-zF', 'a=b'],
    ], // an unknown letter: parseArgs reports it
  ])('%j', (argv, normalized) => {
    expect(normalizeArgs(argv)).toEqual(normalized);
  });

  it('-H with a value starting with "-" reaches the header check, not a parser error', () => {
    expect(send('-H', '-x: y', '-F', 'a=b').headers).toEqual([['-x', 'y']]);
    expect(send('-X', '--verbose', '-F', 'a=b').method).toBe('--verbose'); // a token, so a method, as curl takes it
    expect(usageError(['-X', '-v x', '-F', 'a=b', URL])).toMatch(/^-X takes an HTTP method .*, not "-v x"$/);
  });
});
