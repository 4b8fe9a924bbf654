import { describe, expect, it } from 'vitest';
import { parseRate, pieces, RateLimiter } from '../../src/http/rate.js';

describe('parseRate: curl --limit-rate units', () => {
  const good: Array<[string, number]> = [
    ['0', 0],
    ['1', 1],
    ['100', 100],
    ['100B', 100],
    ['100b', 100],
    ['100k', 102_400],
    ['100K', 102_400],
    ['3m', 3 * 1024 ** 2],
    ['3M', 3 * 1024 ** 2],
    ['1G', 1024 ** 3],
    ['1g', 1024 ** 3],
    ['007k', 7 * 1024],
    ['8388607G', 8_388_607 * 1024 ** 3],
  ];
  for (const [text, rate] of good) it(`${JSON.stringify(text)} is ${rate}`, () => expect(parseRate(text)).toBe(rate));

  // What curl 7.88 refuses, and what a hostile caller tries.
  const bad = [
    '',
    ' ',
    'k',
    '1T',
    '1.5k',
    '0x10',
    '10kb',
    '-5',
    '+5',
    'abc',
    '1 k',
    ' 5',
    '5 ',
    'NaN',
    'Infinity',
    '1e3',
    '8388608G',
    '9'.repeat(400),
    '1\nk',
  ];
  for (const text of bad) {
    it(`${JSON.stringify(text.slice(0, 20))} is refused with a RangeError naming it`, () => {
      expect(() => parseRate(text)).toThrow(RangeError);
      expect(() => parseRate(text)).toThrow(/rate/);
    });
  }
});

/** A clock the test moves: each wait the limiter asks for is slept exactly, plus `late` ms of timer lateness. */
function run(rate: number, chunks: number[], late = 0): { elapsed: number; waits: number[] } {
  let now = 1000;
  const limiter = new RateLimiter(rate, () => now);
  const waits: number[] = [];
  for (const size of chunks) {
    for (let left = size; left > 0;) {
      const piece = Math.min(left, limiter.sliceBytes);
      left -= piece;
      const wait = limiter.take(piece);
      waits.push(wait);
      if (wait > 0) now += wait + late;
    }
  }
  return { elapsed: now - 1000, waits };
}

describe('RateLimiter: a pacing schedule on an injected clock', () => {
  it('refuses a rate that is not a whole number of bytes per second above 0', () => {
    for (const rate of [0, -1, 0.5, NaN, Infinity, 2 ** 53]) expect(() => new RateLimiter(rate)).toThrow(RangeError);
  });

  it('pieces are about 50 ms of the rate, at least 1 byte and at most 64 KiB', () => {
    expect(new RateLimiter(1).sliceBytes).toBe(1);
    expect(new RateLimiter(100).sliceBytes).toBe(5);
    expect(new RateLimiter(100 * 1024).sliceBytes).toBe(5120);
    expect(new RateLimiter(1024 ** 3).sliceBytes).toBe(64 * 1024);
  });

  for (const rate of [1, 100, 10_000, 1024 * 1024, 50 * 1024 * 1024]) {
    it(`${rate} B/s: ten seconds' worth of bytes takes ten seconds, less one piece (the first goes at once)`, () => {
      const total = rate * 10;
      const { elapsed } = run(rate, [total]);
      const piece = new RateLimiter(rate).sliceBytes;
      expect(elapsed).toBeGreaterThanOrEqual(10_000 - (piece * 1000) / rate - 1e-6);
      expect(elapsed).toBeLessThanOrEqual(10_000);
    });
  }

  it('timers that fire late do not add up: 3 ms late on every wait still keeps within 5% of the rate over 10 s', () => {
    const rate = 100 * 1024;
    const { elapsed } = run(rate, [rate * 10], 3);
    // Each late wake-up is made up for by the next wait being shorter (within the 100 ms of catch-up).
    expect(elapsed).toBeLessThan(10_500);
    expect(elapsed).toBeGreaterThan(9_500);
  });

  it('a sender held back by something else catches up by at most 100 ms of the rate, never a burst', () => {
    let now = 0;
    const limiter = new RateLimiter(1000, () => now);
    expect(limiter.take(50)).toBe(0);
    now += 10_000; // the network stalled for 10 s
    // 100 ms of credit: 100 bytes go at once, then the pace is the rate's again.
    expect(limiter.take(50)).toBe(0);
    expect(limiter.take(50)).toBe(0);
    expect(limiter.take(50)).toBeCloseTo(0, 6);
    expect(limiter.take(50)).toBeCloseTo(50, 6);
  });

  it('chunks of every size (0, 1, 16383, 16384, 16385, 65535, 65536, 65537, 1 MiB ± 1) keep the same pace', () => {
    const sizes = [0, 1, 16383, 16384, 16385, 65535, 65536, 65537, 1048575, 1048576, 1048577];
    const rate = 256 * 1024;
    const total = sizes.reduce((a, b) => a + b, 0);
    const { elapsed } = run(rate, sizes);
    const expected = (total * 1000) / rate;
    expect(elapsed).toBeLessThanOrEqual(expected);
    expect(elapsed).toBeGreaterThanOrEqual(expected - 50 - 1e-6);
  });
});

describe('pieces', () => {
  it('cuts a chunk into views of at most the size, at every byte boundary, without copying', () => {
    const chunk = Buffer.from(Array.from({ length: 37 }, (_, i) => i));
    for (let size = 1; size <= 40; size++) {
      const out = [...pieces(chunk, size)];
      expect(Buffer.concat(out)).toEqual(chunk);
      for (const piece of out) {
        expect(piece.length).toBeLessThanOrEqual(size);
        expect(piece.buffer).toBe(chunk.buffer);
      }
      expect(out.length).toBe(Math.ceil(37 / size));
    }
  });

  it('a chunk no larger than the size is handed on as it is; an empty chunk too', () => {
    const chunk = Buffer.alloc(10);
    expect([...pieces(chunk, 10)][0]).toBe(chunk);
    expect([...pieces(Buffer.alloc(0), 10)]).toHaveLength(1);
  });
});
