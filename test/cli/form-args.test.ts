import { describe, expect, it } from 'vitest';
import { parseFormArg } from '../../src/cli/form-args.js';

describe("-F with curl's grammar", () => {
  it.each([
    ['name=value', { name: 'name', kind: 'text', value: 'value' }],
    ['name=', { name: 'name', kind: 'text', value: '' }],
    ['a=b=c', { name: 'a', kind: 'text', value: 'b=c' }],
    ['a=x;y', { name: 'a', kind: 'text', value: 'x;y' }],
    ['a="x;type=y"', { name: 'a', kind: 'text', value: 'x;type=y' }],
    ['a="say \\"hi\\""', { name: 'a', kind: 'text', value: 'say "hi"' }],
    ['a=text;type=text/x-foo', { name: 'a', kind: 'text', value: 'text', type: 'text/x-foo' }],
    ['f=@photo.jpg', { name: 'f', kind: 'file', value: 'photo.jpg' }],
    ['f=@photo.jpg;type=image/png', { name: 'f', kind: 'file', value: 'photo.jpg', type: 'image/png' }],
    ['f=@photo.jpg;filename=other.png;type=image/png', { name: 'f', kind: 'file', value: 'photo.jpg', filename: 'other.png', type: 'image/png' }],
    ['f=@"a;b.jpg";filename="c;d.jpg"', { name: 'f', kind: 'file', value: 'a;b.jpg', filename: 'c;d.jpg' }],
    ['f=@dir/with;semicolon.txt', { name: 'f', kind: 'file', value: 'dir/with;semicolon.txt' }],
    ['t=<notes.txt', { name: 't', kind: 'contents', value: 'notes.txt' }],
    ['t=<notes.txt;TYPE=text/markdown', { name: 't', kind: 'contents', value: 'notes.txt', type: 'text/markdown' }],
  ])('%s', (spec, expected) => {
    expect(parseFormArg(spec)).toEqual(expected);
  });

  it.each(['noequals', '=value', 'f=@', 't=<', 'a="open', 'a="closed"junk'])('rejects %j as a usage error', (spec) => {
    expect(() => parseFormArg(spec)).toThrow(expect.objectContaining({ kind: 'usage' }));
  });
});
