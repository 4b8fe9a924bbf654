import { describe, expect, it } from 'vitest';
import type { DecodeOptions } from '../../src/decoder/options.js';
import { EPILOGUE_LIMIT } from '../../src/decoder/parser.js';
import { chunksOf, decodeAll, splitAt } from './helpers.js';

const KiB = 1024;
const B = 'p4rser';
const FORM = `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--${B}--\r\n`;
const CHUNK_SIZES = [1, 16383, 16384, 16385, 65535, 65536, 65537];

/** What decoding gives, as one comparable value: the parts' names and data, or the error's code and offset. */
async function outcome(chunks: Buffer[], options: DecodeOptions): Promise<string> {
  try {
    const parts = await decodeAll(chunks, { boundary: B, ...options });
    return `parts ${parts.map((part) => `${part.name}=${part.data.toString()}`).join(',')}`;
  } catch (error) {
    const { code, offset } = error as { code: string; offset: number };
    return `${code} at ${offset}`;
  }
}

/** Every way the tests cut a body: whole, in chunks at the buffer edges, and (a small body) in two at every byte. */
function cuts(body: Buffer): [string, Buffer[]][] {
  const all: [string, Buffer[]][] = [['whole', [body]]];
  for (const size of CHUNK_SIZES) if (size < body.length) all.push([`${size}-byte chunks`, chunksOf(body, size)]);
  if (body.length <= 512) for (let at = 1; at < body.length; at++) all.push([`split at ${at}`, splitAt(body, at)]);
  return all;
}

/** The same answer for every cut of the body, and that answer is `expected`. */
async function sameForEveryCut(body: Buffer, options: DecodeOptions, expected: string): Promise<void> {
  for (const [how, chunks] of cuts(body))
    expect(`${how}: ${await outcome(chunks, options)}`).toBe(`${how}: ${expected}`);
}

describe('the preamble: at most maxHeaderBytes before the first delimiter, however the body is chunked', () => {
  const preamble = (length: number) => Buffer.from('p'.repeat(length) + `\r\n${FORM}`);
  const rows: [what: string, body: Buffer, options: DecodeOptions, expected: string][] = [
    ['no preamble', Buffer.from(FORM), { maxHeaderBytes: 100 }, 'parts a=v'],
    ['99 bytes, maxHeaderBytes 100', preamble(99), { maxHeaderBytes: 100 }, 'parts a=v'],
    ['100 bytes, maxHeaderBytes 100', preamble(100), { maxHeaderBytes: 100 }, 'parts a=v'],
    ['101 bytes, maxHeaderBytes 100', preamble(101), { maxHeaderBytes: 100 }, 'ERR_BOUNDARY_NOT_FOUND at 100'],
    ['200 bytes, maxHeaderBytes 100', preamble(200), { maxHeaderBytes: 100 }, 'ERR_BOUNDARY_NOT_FOUND at 100'],
    [
      'a false delimiter line within the limit, the real one past it',
      Buffer.from(`--${B}x\r\n${'p'.repeat(100)}\r\n${FORM}`),
      { maxHeaderBytes: 100 },
      'ERR_BOUNDARY_NOT_FOUND at 100',
    ],
    ['16 KiB, the default', preamble(16 * KiB), {}, 'parts a=v'],
    ['16 KiB + 1, the default', preamble(16 * KiB + 1), {}, 'ERR_BOUNDARY_NOT_FOUND at 16384'],
    ['20 KiB, the default', preamble(20 * KiB), {}, 'ERR_BOUNDARY_NOT_FOUND at 16384'],
    ['1 MiB, the default', preamble(1024 * KiB), {}, 'ERR_BOUNDARY_NOT_FOUND at 16384'],
    ['1 MiB, maxHeaderBytes 1 MiB', preamble(1024 * KiB), { maxHeaderBytes: 1024 * KiB }, 'parts a=v'],
  ];
  it.each(rows)('%s', (_what, body, options, expected) => sameForEveryCut(body, options, expected), 120_000);
});

describe('maxBodyBytes counts the whole body, the epilogue included, however the body is chunked', () => {
  const withEpilogue = (length: number) => Buffer.concat([Buffer.from(FORM), Buffer.alloc(length, 'e')]);
  const rows: [what: string, body: Buffer, options: DecodeOptions, expected: string][] = [
    ['a 100-byte epilogue, the body at the limit', withEpilogue(100), { maxBodyBytes: FORM.length + 100 }, 'parts a=v'],
    [
      'a 100-byte epilogue, the body one byte over',
      withEpilogue(100),
      { maxBodyBytes: FORM.length + 99 },
      `ERR_BODY_TOO_LARGE at ${FORM.length + 99}`,
    ],
    [
      'a 100 KiB epilogue under an 80 KiB limit',
      withEpilogue(100 * KiB),
      { maxBodyBytes: 80 * KiB },
      `ERR_BODY_TOO_LARGE at ${80 * KiB}`,
    ],
    [
      'a 300 KiB epilogue under a 100 KiB limit',
      withEpilogue(300 * KiB),
      { maxBodyBytes: 100 * KiB },
      `ERR_BODY_TOO_LARGE at ${100 * KiB}`,
    ],
    [
      'a 300 KiB epilogue, the body at the limit',
      withEpilogue(300 * KiB),
      { maxBodyBytes: FORM.length + 300 * KiB },
      'parts a=v',
    ],
  ];
  it.each(rows)('%s', (_what, body, options, expected) => sameForEveryCut(body, options, expected), 120_000);

  it('with no maxBodyBytes, an endless epilogue is read no further than EPILOGUE_LIMIT and a chunk, then let go', async () => {
    for (const size of CHUNK_SIZES.filter((size) => size > 1)) {
      const stats = { read: 0, closed: false };
      const source = (async function* () {
        try {
          yield Buffer.from(FORM);
          for (;;) {
            stats.read += size;
            yield Buffer.alloc(size, 'e');
          }
        } finally {
          stats.closed = true;
        }
      })();
      expect((await decodeAll(source, { boundary: B })).map((part) => part.name)).toEqual(['a']);
      expect(stats.closed).toBe(true);
      expect(stats.read).toBeLessThanOrEqual(EPILOGUE_LIMIT + 2 * size);
    }
  });
});
