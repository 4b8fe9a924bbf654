import { describe, expect, it } from 'vitest';
import { createProgress, describeProgress, formatBytes } from '../../src/cli/progress.js';

describe('progress text', () => {
  it('formats sizes in binary units', () => {
    expect([0, 1023, 1024, 1536, 5 * 1024 ** 2, 3 * 1024 ** 3].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '5.0 MiB',
      '3.0 GiB',
    ]);
  });

  it('shows percent, bytes, rate and ETA once the rate has settled', () => {
    expect(describeProgress(512 * 1024, 1024 * 1024, 200)).toBe(' 50%  512.0 KiB / 1.0 MiB  -- B/s  ETA --');
    expect(describeProgress(512 * 1024, 1024 * 1024, 1000)).toBe(' 50%  512.0 KiB / 1.0 MiB  512.0 KiB/s  ETA 1s');
    expect(describeProgress(1024, 1024, 10)).toBe('100%  1.0 KiB / 1.0 KiB  100.0 KiB/s  ETA 0s');
    expect(describeProgress(3 * 1024 ** 2, undefined, 1000)).toBe('3.0 MiB  3.0 MiB/s');
    expect(describeProgress(1, 100 * 1024 ** 2, 1000)).toMatch(/ETA \d+h\d\dm$/);
  });

  it('a bar redraws at most every interval, and clears itself once', () => {
    let time = 0;
    const written: string[] = [];
    const stream = { columns: 80, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const bar = createProgress({ stream, style: 'bar', interval: 100, now: () => time });
    for (time = 0; time <= 1000; time += 10) bar.update(time * 1024, 1000 * 1024);
    expect(written.length).toBe(11); // 0, 100, ..., 1000 ms
    expect(written.at(-1)).toMatch(/^\r\[={10,40}\] 100% {2}1000\.0 KiB \/ 1000\.0 KiB {2}.*\x1b\[K$/);
    bar.finish();
    bar.finish();
    expect(written.at(-1)).toBe('\r\x1b[K');
    expect(written.length).toBe(12);
  });

  it('plain lines end with one for the last state', () => {
    let time = 0;
    const written: string[] = [];
    const stream = { write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const lines = createProgress({ stream, style: 'lines', interval: 1000, now: () => time });
    lines.update(0, 10);
    time = 600;
    lines.update(5, 10);
    time = 700;
    lines.update(10, 10);
    lines.finish();
    expect(written).toEqual(['upload 0%  0 B / 10 B  -- B/s  ETA --\n', 'upload 100%  10 B / 10 B  14 B/s  ETA 0s\n']);
  });

  it('says "waiting for response" once the body is handed over, until it is sent again or ends', () => {
    let time = 0;
    const written: string[] = [];
    const stream = { columns: 120, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const bar = createProgress({ stream, style: 'bar', interval: 100, now: () => time });
    bar.update(10, 10);
    time = 10;
    bar.waiting();
    bar.waiting();
    expect(written).toHaveLength(2);
    expect(written[1]).toMatch(/100% {2}10 B \/ 10 B {2}waiting for response\x1b\[K$/);
    time = 500;
    bar.update(0, 10); // a retry starts again
    expect(written.at(-1)).not.toContain('waiting');
    bar.finish();
    expect(written.at(-1)).toBe('\r\x1b[K');
  });
});
