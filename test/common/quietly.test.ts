import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { quietly } from '../../src/common/quietly.js';

describe('quietly: a caller’s cleanup never fails nor holds the one who leaves', () => {
  // Fake timers: a cleanup that settles needs no timer to fire, and the grace period is stepped through.
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const cleanups: Array<[string, () => unknown]> = [
    ['returns nothing', () => undefined],
    ['gives no promise', () => ({ done: true })],
    ['resolves', () => Promise.resolve({ done: true })],
    [
      'throws',
      () => {
        throw new Error('cleanup threw');
      },
    ],
    ['rejects', () => Promise.reject(new Error('cleanup rejected'))],
    [
      'gives a thenable whose then throws',
      () => ({
        then() {
          throw new Error('then threw');
        },
      }),
    ],
  ];

  it.each(cleanups)('a cleanup that %s: settles without waiting out the grace period', async (_label, cleanup) => {
    await expect(quietly(cleanup)).resolves.toBeUndefined();
  });

  it('a cleanup whose promise never settles: waited for a grace period, then left', async () => {
    let asked = false;
    const left = quietly(() => {
      asked = true;
      return new Promise(() => {});
    });
    expect(asked).toBe(true);
    let settled = false;
    void left.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(200);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(settled).toBe(true);
  });

  it('a cleanup that settles later is waited for', async () => {
    let done = false;
    const left = quietly(() => new Promise<void>((resolve) => setTimeout(() => ((done = true), resolve()), 20)));
    let settled = false;
    void left.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(10);
    expect([done, settled]).toEqual([true, true]);
  });
});
