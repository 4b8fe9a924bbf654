import { describe, expect, it } from 'vitest';
import { visible, visibleLine } from '../../src/common/visible.js';

describe('visible: every control character escaped, C0, DEL, C1, bidi and line separators; nothing else touched', () => {
  const hex = (code: number) => `\\x${code.toString(16).padStart(2, '0')}`;
  const controls = [
    ...Array.from({ length: 0x20 }, (_, code) => code),
    ...Array.from({ length: 0x21 }, (_, at) => 0x7f + at),
  ];
  it.each(controls.map((code) => [code.toString(16).padStart(4, '0').toUpperCase(), code]))(
    'U+%s is escaped',
    (_label, code) => {
      expect(visible(`a${String.fromCharCode(code as number)}b`)).toBe(`a${hex(code as number)}b`);
    },
  );

  it.each<[string, string]>([
    ['printable ASCII', ' !~azAZ09'],
    ['the first character after C1 (NBSP)', '\u00a0'],
    ['Latin-1 letters', 'caf\u00e9 \u00ff'],
    ['other scripts and an emoji', '\u0416 \u4e2d \u{1f600}'],
    ['a lone surrogate', '\ud800'],
    ['the neighbours of the bidi controls', '\u061b\u061d\u200d\u2010\u2027\u202f\u2065\u206a'],
    ['the joiners emoji and scripts need (ZWNJ, ZWJ)', '\u200c\u200d \u{1f468}\u200d\u{1f469}'],
  ])('%s stays as it is', (_label, text) => {
    expect(visible(text)).toBe(text);
  });

  const unicode = [
    0x061c, 0x200b, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2060, 0x2066, 0x2067,
    0x2068, 0x2069, 0xfeff,
  ];
  it.each(unicode.map((code) => [code.toString(16).padStart(4, '0').toUpperCase(), code]))(
    'U+%s (a bidi control, line separator or zero-width character) is escaped as \\u',
    (label, code) => {
      expect(visible(`a${String.fromCharCode(code as number)}b`)).toBe(`a\\u${(label as string).toLowerCase()}b`);
    },
  );

  it('a backslash is doubled: the six characters \\u202e never look like U+202E', () => {
    expect(visible('a\\u202e')).toBe('a\\\\u202e');
    expect(visible('a\u202e')).toBe('a\\u202e');
    expect(visible('C:\\dir\\x1b')).toBe('C:\\\\dir\\\\x1b');
  });

  it('a filename with a right-to-left override keeps its order on screen', () => {
    expect(visible('invoice\u202efdp.exe')).toBe('invoice\\u202efdp.exe');
  });

  it('a line with ESC sequences in 7 and 8 bits: every one escaped, once', () => {
    expect(visible('esc\x1b[31m csi\x9b31m nel\x85x')).toBe('esc\\x1b[31m csi\\x9b31m nel\\x85x');
  });
});

describe('visibleLine: the same control characters escaped, backslashes left single', () => {
  it.each<[string, string, string]>([
    ['ESC, C1 and a bidi control', 'a\x1b[31m\x9b2J\u202eb', 'a\\x1b[31m\\x9b2J\\u202eb'],
    ['escapes already made (JSON, visible) stay as they are', '"\\u001b" \\x1b', '"\\u001b" \\x1b'],
    ['text without controls', 'caf\u00e9 \u4e2d', 'caf\u00e9 \u4e2d'],
  ])('%s', (_label, text, expected) => {
    expect(visibleLine(text)).toBe(expected);
  });
});
