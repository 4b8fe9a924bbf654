import { describe, expect, it } from 'vitest';
import { BlockPool } from '../../../src/multipart/sources.js';

// The block pool (src/multipart/sources/pool.ts): upload() hands file blocks back once the socket
// is done with them; only whole blocks the pool made may be read into again.
describe('BlockPool', () => {
  it('gives a block back out once it was handed back', () => {
    const pool = new BlockPool(1024);
    const block = pool.take(1024);
    expect(block.length).toBe(1024);
    pool.give(block);
    expect(pool.take(1024)).toBe(block);
    expect(pool.take(1024)).not.toBe(block);
  });

  it.each<[string, (pool: BlockPool) => Uint8Array]>([
    ['a caller buffer of the block size', () => Buffer.alloc(1024)],
    ['a smaller block it made (the end of a file)', (pool) => pool.take(10)],
    ['a view of a block it made', (pool) => pool.take(1024).subarray(0, 1024)],
    ['a Uint8Array over a block it made', (pool) => new Uint8Array(pool.take(1024).buffer)],
  ])('never reuses %s', (_label, make) => {
    const pool = new BlockPool(1024);
    const foreign = make(pool);
    pool.give(foreign);
    expect(pool.take(1024)).not.toBe(foreign);
  });

  it('keeps at most its capacity of blocks', () => {
    const pool = new BlockPool(16, 2);
    const blocks = [pool.take(16), pool.take(16), pool.take(16)];
    for (const block of blocks) pool.give(block);
    const again = [pool.take(16), pool.take(16), pool.take(16)];
    expect(again.filter((block) => blocks.includes(block))).toHaveLength(2);
  });
});
