import { describe, expect, it } from 'vitest';
import { multipartEncode } from '../../src/index.js';
import { collect } from '../helpers/parse.js';

// toBlob() of a large form gives the event loop its turns while it gathers the pieces, instead of
// holding it for the whole form in one stretch; the Blob holds exactly the stream body's bytes.
describe('toBlob() of 100,000 fields', () => {
  it('lets the event loop turn while it works, and gives the same bytes as the stream body', async () => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < 100_000; i++) fields[`field${i}`] = `value number ${i} ${'é'.repeat(i % 7)}`;
    const form = await multipartEncode(fields);
    let turns = 0;
    let counting = true;
    const count = () => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const blob = await form.toBlob();
    counting = false;
    expect(turns).toBeGreaterThan(1);
    expect(blob.size).toBe(form.contentLength);
    expect(Buffer.from(await blob.arrayBuffer()).equals(await collect(form.body))).toBe(true);
  });
});
