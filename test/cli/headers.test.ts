import { describe, expect, it } from 'vitest';
import { send, TARGET as URL, usageError } from '../helpers/cli-options.js';

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
    ['Host:', `bad -H "Host:": Host cannot be removed: Node's HTTP client always sends it`],
    ['connection: ', `bad -H "connection: ": connection cannot be removed: Node's HTTP client always sends it`],
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
