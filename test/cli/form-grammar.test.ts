import { describe, expect, it } from 'vitest';
import { parseFormArg, parseFormString } from '../../src/cli/form-grammar.js';

// curl's -F grammar (test/cli/form-grammar.interop.test.ts sends the same forms with curl and the CLI).
describe("-F with curl's grammar", () => {
  it.each([
    ['name=value', { name: 'name', kind: 'text', value: 'value' }],
    ['name=', { name: 'name', kind: 'text', value: '' }],
    ['a=b=c', { name: 'a', kind: 'text', value: 'b=c' }],
    ['a=x;y', { name: 'a', kind: 'text', value: 'x;y' }], // curl drops ";y" with a warning; kept here
    ['a= x ', { name: 'a', kind: 'text', value: 'x' }], // blanks around an unquoted value are cut, as curl does
    ['a=" x "', { name: 'a', kind: 'text', value: ' x ' }],
    ['a="x" ', { name: 'a', kind: 'text', value: 'x' }],
    ['a="x;type=y"', { name: 'a', kind: 'text', value: 'x;type=y' }],
    ['a="say \\"hi\\""', { name: 'a', kind: 'text', value: 'say "hi"' }],
    ['a="back\\\\slash"', { name: 'a', kind: 'text', value: 'back\\slash' }],
    ['a=un"quoted', { name: 'a', kind: 'text', value: 'un"quoted' }],
    ['a=text;type=text/x-foo', { name: 'a', kind: 'text', value: 'text', type: 'text/x-foo' }],
    ['a=text ; type= text/x-foo ', { name: 'a', kind: 'text', value: 'text', type: 'text/x-foo' }],
    ['a=x;TYPE=text/plain', { name: 'a', kind: 'text', value: 'x', type: 'text/plain' }],
    [
      'a=x;type=text/plain; charset="utf-8";',
      { name: 'a', kind: 'text', value: 'x', type: 'text/plain; charset="utf-8";' },
    ],
    [
      'a=x;type=application/json; charset=UTF-8',
      { name: 'a', kind: 'text', value: 'x', type: 'application/json; charset=UTF-8' },
    ],
    ['a=x;filename=', { name: 'a', kind: 'text', value: 'x', filename: '' }],
    ['a=x;filename= f.txt ', { name: 'a', kind: 'text', value: 'x', filename: 'f.txt' }],
    ['a=x;filename="q\\"r"', { name: 'a', kind: 'text', value: 'x', filename: 'q"r' }],
    ['f=@photo.jpg', { name: 'f', kind: 'file', value: 'photo.jpg' }],
    ['f= @ photo.jpg', { name: 'f', kind: 'text', value: '@ photo.jpg' }], // as in curl: @ counts only right after =
    ['f=@ photo.jpg', { name: 'f', kind: 'file', value: 'photo.jpg' }],
    ['f=@photo.jpg;type=image/png', { name: 'f', kind: 'file', value: 'photo.jpg', type: 'image/png' }],
    [
      'f=@photo.jpg;filename=other.png;type=image/png',
      { name: 'f', kind: 'file', value: 'photo.jpg', filename: 'other.png', type: 'image/png' },
    ],
    ['f=@"a;b.jpg";filename="c;d.jpg"', { name: 'f', kind: 'file', value: 'a;b.jpg', filename: 'c;d.jpg' }],
    ['f=@dir/with;semicolon.txt', { name: 'f', kind: 'file', value: 'dir/with;semicolon.txt' }],
    ['t=<notes.txt', { name: 't', kind: 'contents', value: 'notes.txt' }],
    ['t=<notes.txt;TYPE=text/markdown', { name: 't', kind: 'contents', value: 'notes.txt', type: 'text/markdown' }],
    ['f=@a.txt,b.txt', { name: 'f', kind: 'files', value: 'a.txt', paths: ['a.txt', 'b.txt'] }],
    ['f=@a.txt, b.txt', { name: 'f', kind: 'files', value: 'a.txt', paths: ['a.txt', 'b.txt'] }],
    ['f=@a.txt,"b,c.txt",d', { name: 'f', kind: 'files', value: 'a.txt', paths: ['a.txt', 'b,c.txt', 'd'] }],
    [
      'f=@a.txt,b.txt;headers=X-A: 1',
      { name: 'f', kind: 'files', value: 'a.txt', paths: ['a.txt', 'b.txt'], headers: ['X-A: 1'] },
    ],
    [
      'f=@a.txt;headers=Content-ID: <x>;headers=@h.txt;headers=<i.txt',
      { name: 'f', kind: 'file', value: 'a.txt', headers: ['Content-ID: <x>', '@h.txt', '<i.txt'] },
    ],
    ['t=v;headers="X-Semi: a;b"', { name: 't', kind: 'text', value: 'v', headers: ['X-Semi: a;b'] }],
  ])('%s', (spec, expected) => {
    expect(parseFormArg(spec)).toEqual(expected);
  });

  it.each([
    ['noequals', 'expected name=value, name=@file or name=<file'],
    ['=value', 'expected name=value, name=@file or name=<file'],
    ['f=@', 'no file named after @'],
    ['t=<', 'no file named after <'],
    ['f=@a,', 'no file named after @'],
    ['f=@,b', 'no file named after @'],
    ['a="open', 'unterminated quote'],
    ['a="open\\"', 'unterminated quote'],
    ['f=@"a,b', 'unterminated quote'],
    ['a="closed"junk', 'text after the closing quote'],
    ['a="closed";junk', 'unknown parameter "junk"'],
    ['a="x\\y"', 'inside quotes, \\ escapes only " and \\ (write \\\\ for a backslash)'],
    ['a=x;encoder=base64', ';encoder= is not supported: parts are sent as they are (RFC 7578 §4.7)'],
    [
      'f=@a,b;type=text/plain',
      ';type= and ;filename= name one file; with several files each gets its own name and guessed type',
    ],
    // ;type= must be a media type: it is sent as the part's Content-Type as given
    ...[
      '',
      ' ',
      '";"',
      'text',
      'text/',
      '/plain',
      'te xt/plain',
      'text/plain/x',
      '"text/plain"',
      'text/plain;charset',
    ].map((type) => [
      `a=x;type=${type}`,
      `;type= takes a media type such as text/plain, not ${JSON.stringify(type.trim())}`,
    ]),
    ['f=@a.txt;type=', ';type= takes a media type such as text/plain, not ""'],
    [
      'a=x;type=text/plain; charset="open',
      ';type= takes a media type such as text/plain, not "text/plain; charset=\\"open"',
    ],
  ])('%j is a usage error: %s', (spec, why) => {
    expect(() => parseFormArg(spec)).toThrow(
      expect.objectContaining({ kind: 'usage', message: `bad -F ${JSON.stringify(spec)}: ${why}` }),
    );
  });
});

describe('--form-string', () => {
  it.each([
    ['a= x ', ' x '],
    ['a=@not-a-file;type=x', '@not-a-file;type=x'],
    ['a="q"', '"q"'],
    ['a=', ''],
  ])('%j is taken as it is', (spec, value) => {
    expect(parseFormString(spec)).toEqual({ name: 'a', kind: 'text', value });
  });

  it('needs a name', () => {
    expect(() => parseFormString('=x')).toThrow(
      expect.objectContaining({ kind: 'usage', message: 'bad --form-string "=x": expected name=value' }),
    );
  });
});
