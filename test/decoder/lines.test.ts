import { afterEach, describe, expect, it, vi } from 'vitest';
import { EDGE_SIZES } from '../helpers/buffer-edges.js';
import { chunksOf, decodeAll, splitAt } from './helpers.js';

const B = 'f0ld';
const part = (head: string) => Buffer.from(`--${B}\r\n${head}\r\n\r\nv\r\n--${B}--\r\n`);

/** Every way the tests cut a body: whole, at the buffer edges, and (a small body) in two at every byte. */
function cuts(body: Buffer): [string, Buffer[]][] {
  const all: [string, Buffer[]][] = [['whole', [body]]];
  for (const size of EDGE_SIZES)
    if (size > 0 && size < body.length) all.push([`${size}-byte chunks`, chunksOf(body, size)]);
  if (body.length <= 512) for (let at = 1; at < body.length; at++) all.push([`split at ${at}`, splitAt(body, at)]);
  return all;
}

describe('folded header lines: unfolded to the same value however the body is cut', () => {
  const many = (count: number) => `X: a${'\r\n x'.repeat(count)}`;
  const rows: [what: string, head: string, expected: [string, string][]][] = [
    ['no fold', 'X: 1', [['X', '1']]],
    ['one fold with spaces', 'X: 1\r\n  2', [['X', '1 2']]],
    [
      'one fold with a tab',
      'Content-Disposition: form-data;\r\n\tname="a"',
      [['Content-Disposition', 'form-data; name="a"']],
    ],
    ['spaces around each piece are dropped', 'X:  1  \r\n \t 2 \t\r\n 3', [['X', '1 2 3']]],
    ['an empty continuation adds nothing', 'X: 1\r\n \r\n 2', [['X', '1 2']]],
    ['an empty value then a fold', 'X:\r\n 2', [['X', '2']]],
    ['an empty value and empty folds', 'X:\r\n \r\n\t', [['X', '']]],
    [
      'a fold, then another pair',
      'X: 1\r\n 2\r\nY: 3',
      [
        ['X', '1 2'],
        ['Y', '3'],
      ],
    ],
    [
      'folds in two pairs',
      'X: 1\r\n 2\r\nY: 3\r\n 4\r\n 5',
      [
        ['X', '1 2'],
        ['Y', '3 4 5'],
      ],
    ],
    [
      'a pair after folds keeps its own value',
      'X: 1\r\n 2\r\nY: 3\r\nZ: 4',
      [
        ['X', '1 2'],
        ['Y', '3'],
        ['Z', '4'],
      ],
    ],
    ['1,000 continuation lines', many(1000), [['X', `a${' x'.repeat(1000)}`]]],
  ];
  it.each(rows)('%s', async (_what, head, expected) => {
    for (const [how, chunks] of cuts(part(head))) {
      const [decoded] = await decodeAll(chunks, { boundary: B });
      expect({ how, rawHeaders: decoded!.rawHeaders }).toEqual({ how, rawHeaders: expected });
    }
  });
});

describe('unfolding is linear in the header', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  // Work counted, not timed: each continuation line re-trimmed the whole value so far, so the
  // characters trimmed grew with the square of the lines (about a million for these 1,000).
  it('1,000 continuation lines within the limit: the characters trimmed stay within twice the header', async () => {
    const head = `X: a${'\r\n x'.repeat(1000)}`;
    const body = part(head);
    let trimmed = 0;
    const trim = String.prototype.trim;
    vi.spyOn(String.prototype, 'trim').mockImplementation(function (this: string) {
      trimmed += this.length;
      return trim.call(this);
    });
    const [decoded] = await decodeAll([body], { boundary: B });
    vi.restoreAllMocks();
    expect(decoded!.rawHeaders[0]![1]).toHaveLength(1 + 2 * 1000);
    expect(trimmed).toBeLessThan(2 * head.length);
  });
});

describe('a long header line in small chunks is joined in linear work', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  // Work counted, not timed: each chunk was joined to the whole unfinished line before it, so the
  // bytes allocated grew with the square of the line (over 500 MB for this 32 KiB line).
  it.each([1, 7, 100])(
    'a 32 KiB value in %i-byte chunks: the bytes allocated stay within 8 times the body',
    async (size) => {
      const value = 'v'.repeat(32 * 1024);
      const body = part(`X: ${value}`);
      const chunks = chunksOf(body, size);
      let allocated = 0;
      const { allocUnsafe, concat } = Buffer;
      vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((length: number) => {
        allocated += length;
        return allocUnsafe(length);
      });
      vi.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], length?: number) => {
        const joined = concat(list, length);
        allocated += joined.length;
        return joined;
      });
      const [decoded] = await decodeAll(chunks, { boundary: B, maxHeaderBytes: 64 * 1024 });
      vi.restoreAllMocks();
      expect(decoded!.rawHeaders).toEqual([['X', value]]);
      expect(allocated).toBeLessThan(8 * body.length);
    },
  );
});
