import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/cli/options.js';
import { send, TARGET as URL, usageError } from '../helpers/cli-options.js';

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
    [['-X', 'connect'], '-X CONNECT opens a tunnel; it carries no upload'],
    [['-o', ''], '-o takes a file (or - for standard output)'],
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
    // was every interface, announced as http://:PORT/
    [['--host', ''], '--host takes an address to listen on, such as 127.0.0.1 or ::, not ""'],
    [['--host', ' '], '--host takes an address to listen on, such as 127.0.0.1 or ::, not " "'],
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

describe('hostile option values', () => {
  it.each([
    [['--retry', String(2 ** 31)], '--retry takes a whole number from 0 to 1000, not "2147483648"'],
    [['--retry', 'NaN'], '--retry takes a whole number from 0 to 1000, not "NaN"'],
    [['--retry', 'Infinity'], '--retry takes a whole number from 0 to 1000, not "Infinity"'],
    [['--retry-delay', 'NaN'], '--retry-delay takes a number of seconds from 0 to 2147483, not "NaN"'],
    [['--retry-delay', 'Infinity'], '--retry-delay takes a number of seconds from 0 to 2147483, not "Infinity"'],
    [['--timeout', String(2 ** 31)], '--timeout takes at most 2147483 seconds (about 24 days), not "2147483648"'],
    [['--timeout', '-0'], '--timeout takes a number of seconds, not "-0"'],
    [['--max-redirs', 'NaN'], '--max-redirs takes a whole number (or -1 for no limit), not "NaN"'],
    [['--max-redirs', '-0'], '--max-redirs takes a whole number (or -1 for no limit), not "-0"'],
    [['--progress', '--no-progress'], '--progress and --no-progress contradict each other'],
    [['--expect-continue', '--no-expect-continue'], '--expect-continue and --no-expect-continue contradict each other'],
  ])('%j', (args, message) => {
    expect(usageError([...args, '-F', 'a=b', URL])).toBe(message);
  });

  it.each([
    [['--time-out', '5'], "Unknown option '--time-out'"],
    [['--retry-delays', '1'], "Unknown option '--retry-delays'"],
    [['-Z'], "Unknown option '-Z'"],
    [['--dry-run=yes'], "Option '--dry-run' does not take an argument"],
  ])('a misspelt or misused option %j is a usage error', (args, message) => {
    expect(usageError([...args, '-F', 'a=b', URL])).toBe(message);
  });

  it('an option missing its value at the end is a usage error', () => {
    expect(usageError([URL, '-F'])).toBe("Option '-F, --form <value>' argument missing");
    expect(usageError([URL, '-F', 'a=b', '--timeout'])).toBe("Option '--timeout <value>' argument missing");
  });

  it.each([
    [
      'example.com/upload',
      'url',
      '"example.com/upload" is not a URL: it has no scheme (http:// or https://); did you mean http://example.com/upload?',
    ],
    [
      'localhost:8080/upload',
      'url',
      '"localhost:8080/upload" is not a URL: it has no scheme (http:// or https://); did you mean http://localhost:8080/upload?',
    ],
    ['http://[::1', 'url', '"http://[::1" is not a valid URL'],
    [
      '//127.0.0.1:8080/up',
      'url',
      '"//127.0.0.1:8080/up" is not a URL: it has no scheme (http:// or https://); did you mean http://127.0.0.1:8080/up?',
    ],
    // A password is never shown, however the URL is spelt; a value that starts as a scheme gets no guess.
    ['http://me:hunter2@[::1', 'url', '"http://***@[::1" is not a valid URL'],
    ['ftp:/me:hunter2@h/x', 'url', '"ftp:/***@h/x" is not a URL: it has no scheme (http:// or https://)'],
    [
      'me:hunter2@h/x',
      'url',
      '"me:***@h/x" is not a URL: it has no scheme (http:// or https://); did you mean http://***@h/x?',
    ],
    ['ftp://127.0.0.1/x', 'unsupported', 'ftp:// is not supported: only http:// and https://'],
    ['file:///etc/passwd', 'unsupported', 'file:// is not supported: only http:// and https://'],
  ])('the URL %j: %s', (url, kind, message) => {
    expect(() => parseOptions(['-F', 'a=b', url])).toThrow(expect.objectContaining({ kind, message }));
  });

  it('http:// and https:// URLs are taken as given', () => {
    expect(send('-F', 'a=b').url).toBe(URL);
    expect((parseOptions(['-F', 'a=b', 'HTTPS://Example.com:8443/x?y#z']) as { url: string }).url).toBe(
      'HTTPS://Example.com:8443/x?y#z',
    );
  });
});
