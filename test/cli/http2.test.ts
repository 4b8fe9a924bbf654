import { describe, expect, it } from 'vitest';
import { send, TARGET, usageError } from '../helpers/cli-options.js';

describe('--http1.1, --http2, --http2-prior-knowledge and --limit-rate, as curl', () => {
  it('HTTP/1.1 by default; --http2 is ALPN (auto), --http2-prior-knowledge HTTP/2 only; the last one given wins', () => {
    expect(send('-F', 'a=b').http2).toBe(false);
    expect(send('-F', 'a=b', '--http2').http2).toBe('auto');
    expect(send('-F', 'a=b', '--http2-prior-knowledge').http2).toBe(true);
    expect(send('-F', 'a=b', '--http1.1').http2).toBe(false);
    expect(send('-F', 'a=b', '--http2', '--http1.1').http2).toBe(false);
    expect(send('-F', 'a=b', '--http1.1', '--http2').http2).toBe('auto');
    expect(send('--http2-prior-knowledge', '-F', 'a=b', '--http2').http2).toBe('auto');
    expect(send('--http2', '-F', 'a=b', '--http2-prior-knowledge').http2).toBe(true);
  });

  it("--limit-rate takes curl's units (1024-based); 0 means no limit", () => {
    const rate = (value: string) => send('-F', 'a=b', '--limit-rate', value).maxRate;
    expect(send('-F', 'a=b').maxRate).toBeUndefined();
    expect(rate('100')).toBe(100);
    expect(rate('100k')).toBe(102_400);
    expect(rate('100K')).toBe(102_400);
    expect(rate('2M')).toBe(2 * 1024 ** 2);
    expect(rate('1g')).toBe(1024 ** 3);
    expect(rate('10B')).toBe(10);
    expect(rate('0')).toBeUndefined();
  });

  it.each(['', 'fast', '1.5k', '-1', '+1', '1T', '10kb', '0x10', ' 5', '1e3', 'NaN', '99999999999999G'])(
    '--limit-rate %j is a usage error naming it',
    (value) => {
      expect(usageError(['-F', 'a=b', '--limit-rate', value, TARGET])).toBe(
        `--limit-rate takes bytes per second, a whole number with an optional k, M or G, not ${JSON.stringify(value)}`,
      );
    },
  );

  it('the flags take no value', () => {
    expect(usageError(['-F', 'a=b', '--http2=yes', TARGET])).toContain('http2');
  });
});
