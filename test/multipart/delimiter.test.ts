import { describe, expect, it } from 'vitest';
import {
  assertNoDelimiter,
  assertNoDelimiterIn,
  boundaryInData,
  DelimiterScanner,
  delimiterNeedle,
} from '../../src/multipart/delimiter.js';

const B = 'Bound';

/** Whether the data, whole, is refused for holding the delimiter of B. */
function refusedWhole(data: string | Uint8Array): boolean {
  try {
    assertNoDelimiter(data, B, 'f');
    return false;
  } catch (error) {
    expect(error).toMatchObject({ code: 'ERR_BOUNDARY_IN_DATA', paramName: 'f' });
    return true;
  }
}

/** Whether a scanner fed these chunks, in order, refuses them. */
function refusedInChunks(chunks: Uint8Array[]): boolean {
  const scanner = new DelimiterScanner(B, 'f');
  try {
    for (const chunk of chunks) scanner.scan(chunk);
    return false;
  } catch (error) {
    expect(error).toMatchObject({ code: 'ERR_BOUNDARY_IN_DATA', paramName: 'f' });
    return true;
  }
}

/** `--B` where a parser splits (the data's start, after LF or CRLF) is refused; anywhere else it is data. */
const rows: Array<[string, boolean]> = [
  ['', false],
  ['--Bound', true],
  ['--Bound--', true],
  ['--Boun', false],
  ['--bound', false],
  ['x--Bound', false],
  ['x \t--Bound', false],
  ['x\n--Bound', true],
  ['x\r\n--Bound\r\n', true],
  ['x\r--Bound', false],
  ['\n--Bound', true],
  ['\n-\n--Bound', true],
  ['\n-Bound', false],
  ['-\n-Bound', false],
  ['é\n--Bound', true],
  ['line\r\n--Boun\r\nd', false],
  ['--Bound'.repeat(3).slice(1), false],
  [`${'a'.repeat(70_000)}\n--Bound`, true],
];

describe('the delimiter rule: in-memory data', () => {
  it('searches for LF--B', () => {
    expect(delimiterNeedle(B).toString('latin1')).toBe('\n--Bound');
  });

  it.each(rows)('%j: refused %s, as text and as bytes', (data, refused) => {
    expect(refusedWhole(data)).toBe(refused);
    expect(refusedWhole(Buffer.from(data))).toBe(refused);
    expect(refusedWhole(new Uint8Array(Buffer.from(data)))).toBe(refused);
  });

  it('reads only the view it is given, not the buffer around it', () => {
    const around = Buffer.from('a\n--Bound|z');
    expect(refusedWhole(around.subarray(1))).toBe(true); // '\n--Bound|z'
    expect(refusedWhole(around.subarray(2))).toBe(true); // '--Bound|z': at the start
    expect(refusedWhole(around.subarray(3))).toBe(false); // '-Bound|z'
    expect(refusedWhole(around.subarray(9))).toBe(false); // '|z'
    expect(refusedWhole(around.subarray(0, 7))).toBe(false); // 'a\n--Bou'
  });
});

describe('the delimiter rule: data that arrives in chunks', () => {
  it.each(rows.filter(([data]) => data.length < 40))(
    '%j split at every byte into two and three chunks, and byte by byte: refused %s',
    (data, refused) => {
      const bytes = Buffer.from(data);
      for (let i = 0; i <= bytes.length; i++) {
        expect(refusedInChunks([bytes.subarray(0, i), bytes.subarray(i)])).toBe(refused);
        for (let j = i; j <= bytes.length; j++) {
          expect(refusedInChunks([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)])).toBe(refused);
        }
      }
      expect(refusedInChunks([...bytes].map((byte) => Uint8Array.of(byte)))).toBe(refused);
    },
  );

  it('a scanner keeps its own copy of the bytes at a chunk edge, not a view the caller may rewrite', () => {
    const reused = Buffer.from('x\n--Bo');
    const scanner = new DelimiterScanner(B, 'f');
    scanner.scan(reused);
    reused.fill('z'); // the caller rewrites its buffer once the chunk is taken
    expect(() => scanner.scan(Buffer.from('und'))).toThrow(expect.objectContaining({ code: 'ERR_BOUNDARY_IN_DATA' }));
  });

  it('assertNoDelimiterIn reads chunks to their end, for every boundary given', async () => {
    async function* chunks(...parts: string[]) {
      for (const part of parts) yield Buffer.from(part);
    }
    await expect(assertNoDelimiterIn(chunks('a\n--', 'Bound'), [B], 'g')).rejects.toMatchObject({
      code: 'ERR_BOUNDARY_IN_DATA',
      paramName: 'g',
    });
    await expect(assertNoDelimiterIn(chunks('a\n--', 'outer'), [B, 'outer'], 'g')).rejects.toMatchObject({
      code: 'ERR_BOUNDARY_IN_DATA',
    });
    await expect(assertNoDelimiterIn(chunks('a--Bound', '\r\n-', '-x'), [B], 'g')).resolves.toBeUndefined();
    await expect(assertNoDelimiterIn(chunks(), [B], 'g')).resolves.toBeUndefined();
  });

  it('the error names the field and says what to do', () => {
    expect(boundaryInData('f')).toMatchObject({
      name: 'MultipartError',
      code: 'ERR_BOUNDARY_IN_DATA',
      paramName: 'f',
      message: 'field "f": its data contains the boundary delimiter; choose another boundary',
    });
  });
});
