import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, runCli } from '../helpers/cli.js';
import { send, TARGET, usageError } from '../helpers/cli-options.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { receive, startH2Server } from '../helpers/h2.js';

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

describe('the CLI over HTTP/2 (the build)', () => {
  it('--http2-prior-knowledge sends the form over h2c; --http2 over TLS by ALPN; --limit-rate paces it', async () => {
    const h2c = await startH2Server(receive);
    const h2 = await startH2Server(receive, { secure: true });
    const dir = tempDir();
    const file = writeFile(dir, 'f.bin', bytes(100_000, 3));
    const plain = await runCli(['--http2-prior-knowledge', '-F', `file=@${file}`, h2c.url]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ contentLength: JSON.parse(plain.stdout).size.toString() });
    const ca = join(root, 'fixtures', 'tls', 'ca.crt');
    const started = performance.now();
    const secure = await runCli(['--http2', '--cacert', ca, '--limit-rate', '200k', '-F', `file=@${file}`, h2.url]);
    expect(secure.code, secure.stderr).toBe(0);
    expect(JSON.parse(secure.stdout).size).toBeGreaterThan(100_000);
    // 100 KB at 200 KiB/s: the rate allows no less than about half a second (a lower bound only).
    expect(performance.now() - started).toBeGreaterThanOrEqual(((100_000 - 10_240) * 1000) / (200 * 1024) - 5);
    expect(h2c.sessions).toHaveLength(1);
    expect(h2.sessions).toHaveLength(1);
  });
});
