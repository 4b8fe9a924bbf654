import { describe, expect, it } from 'vitest';
import { visible } from '../../src/common/visible.js';

describe('visible: every control character escaped, C0, DEL and C1; nothing else touched', () => {
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
    ['U+2028, not a C0 or C1 control', '\u2028'],
  ])('%s stays as it is', (_label, text) => {
    expect(visible(text)).toBe(text);
  });

  it('a line with ESC sequences in 7 and 8 bits: every one escaped, once', () => {
    expect(visible('esc\x1b[31m csi\x9b31m nel\x85x')).toBe('esc\\x1b[31m csi\\x9b31m nel\\x85x');
  });
});
