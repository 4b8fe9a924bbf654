import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ByteSource, ReadSettings } from '../../src/multipart/sources.js';
import { streamPieces, type StreamSettings } from '../../src/multipart/stream.js';
import {
  inMemory,
  unframedPieces,
  wirePieces,
  type Part,
  type PartRecord,
  type Piece,
} from '../../src/multipart/wire.js';

const SETTINGS: StreamSettings<string> = { blockSize: 1024 * 1024, syncReadLimit: 0 };

/** A source that yields the chunks it was given (the same buffers), and says what it was asked. */
class ListSource implements ByteSource {
  readonly description = 'list';
  consumed = false;
  reads: ReadSettings[] = [];
  readonly size: number | undefined;

  /** `size`: what it declares (default: what it yields), or 'unknown'. */
  constructor(
    private readonly chunks: Uint8Array[],
    size?: number | 'unknown',
    readonly borrowsChunks = false,
  ) {
    this.size = size === 'unknown' ? undefined : (size ?? chunks.reduce((sum, c) => sum + c.length, 0));
  }

  async *read(settings: ReadSettings): AsyncGenerator<Uint8Array> {
    this.reads.push(settings);
    for (const chunk of this.chunks) yield chunk;
  }
}

const record = (owner: string, size: number | undefined, parent?: PartRecord<string>): PartRecord<string> => ({
  owner,
  label: owner,
  size,
  parent,
});

function textParts(count: number, value: string): Part<string>[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `f${i}`,
    filename: undefined,
    contentType: undefined,
    headers: undefined,
    data: value,
    owner: `f${i}`,
  }));
}

async function chunksOf(pieces: readonly Piece<string>[], settings: StreamSettings<string> = SETTINGS) {
  const chunks: Buffer[] = [];
  for await (const chunk of streamPieces(pieces, settings)) chunks.push(chunk);
  return chunks;
}

async function failureOf(pieces: readonly Piece<string>[], settings: StreamSettings<string> = SETTINGS) {
  const seen: Buffer[] = [];
  try {
    for await (const chunk of streamPieces(pieces, settings)) seen.push(chunk);
  } catch (error) {
    return { error: error as { code: string; paramName?: string; cause?: unknown }, bytes: Buffer.concat(seen) };
  }
  throw new Error('the stream did not fail');
}

describe('streamPieces: how pieces become chunks', () => {
  it('gathers small pieces into chunks of up to 64 KiB, encoding text as UTF-8', async () => {
    const pieces = wirePieces(textParts(5000, 'ü'.repeat(20)), {
      boundary: 'B',
      disposition: 'form-data',
      chosen: false,
    });
    const chunks = await chunksOf(pieces);
    const expected = Buffer.concat(
      pieces.map(({ data }) => Buffer.from(inMemory(data as Exclude<typeof data, ByteSource>))),
    );
    expect(Buffer.concat(chunks).equals(expected)).toBe(true);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.length).toBeGreaterThan(64 * 1024 - 100); // each piece is under 100 bytes
      expect(chunk.length).toBeLessThanOrEqual(64 * 1024);
    }
  });

  it('passes large bytes and large source chunks on uncopied, after what was batched', async () => {
    const large = Buffer.alloc(100_000, 1);
    const read = Buffer.alloc(200_000, 2);
    const pieces: Piece<string>[] = [
      { part: record('a', 4), data: 'head' },
      { part: record('b', large.length), data: large, planned: large.length },
      { part: record('c', read.length), data: new ListSource([read]) },
    ];
    const chunks = await chunksOf(pieces);
    expect(chunks.map((c) => c.length)).toEqual([4, 100_000, 200_000]);
    expect(chunks[1]!.buffer).toBe(large.buffer);
    expect(chunks[2]!.buffer).toBe(read.buffer);
  });

  it('copies the chunks of a source that keeps them (a caller stream reusing its buffer)', async () => {
    const reused = Buffer.alloc(100_000, 3);
    const chunks = await chunksOf(
      unframedPieces({ owner: 's', name: 's', data: new ListSource([reused], 100_000, true) }),
    );
    expect(chunks[0]!.buffer).not.toBe(reused.buffer);
    expect(chunks[0]!.equals(reused)).toBe(true);
  });

  it.each([1, 2, 3, 1000, 16_384, 65_535, 65_536, 65_537])('with maxChunk %i, no chunk is larger', async (limit) => {
    const pieces: Piece<string>[] = [
      { part: record('t', 50_000), data: 'x'.repeat(50_000) },
      { part: record('b', 70_000), data: Buffer.alloc(70_000, 1), planned: 70_000 },
      { part: record('s', 90_000), data: new ListSource([Buffer.alloc(90_000, 2)]) },
    ];
    if (limit < 100) pieces.splice(1); // one byte at a time: a smaller body
    const chunks = await chunksOf(pieces, { ...SETTINGS, maxChunk: limit });
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(limit);
    expect(Buffer.concat(chunks).length).toBe(limit < 100 ? 50_000 : 210_000);
  });

  it('reads sources with the block size, no larger than maxChunk, and the pool it was given', async () => {
    const source = new ListSource([Buffer.alloc(10)]);
    await chunksOf(unframedPieces({ owner: 's', name: 's', data: source }), {
      blockSize: 4096,
      syncReadLimit: 7,
      maxChunk: 1000,
    });
    expect(source.reads).toEqual([{ blockSize: 1000, syncReadLimit: 7, pool: undefined }]);
  });

  it('an empty body yields nothing and still reports itself complete', async () => {
    const calls: Array<[string | undefined, number, number | undefined]> = [];
    const chunks = await chunksOf([], {
      ...SETTINGS,
      onProgress: (owner, current, total) => calls.push([owner, current, total]),
    });
    expect(chunks).toEqual([]);
    expect(calls).toEqual([[undefined, 0, 0]]);
  });
});

describe('streamPieces: a body is what was declared, or it fails typed', () => {
  it.each<[string, () => Piece<string>[], string, number]>([
    [
      'a source shorter than its size',
      () => [{ part: record('s', 10), data: new ListSource([Buffer.alloc(4)], 10) }],
      'ERR_SIZE_MISMATCH',
      4,
    ],
    [
      'a source longer than its size (nothing past the size goes out)',
      () => [{ part: record('s', 10), data: new ListSource([Buffer.alloc(6), Buffer.alloc(6)], 10) }],
      'ERR_SIZE_MISMATCH',
      6,
    ],
    [
      'a source already read',
      () => {
        const spent = new ListSource([Buffer.alloc(1)]);
        spent.consumed = true;
        return [
          { part: record('before', 1), data: 'x' },
          { part: record('s', 1), data: spent },
        ];
      },
      'ERR_SOURCE_CONSUMED',
      0,
    ],
    [
      'bytes whose buffer was detached after planning',
      () => {
        const bytes = new Uint8Array(8);
        const pieces: Piece<string>[] = [{ part: record('d', 8), data: bytes, planned: 8 }];
        structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
        return pieces;
      },
      'ERR_SIZE_MISMATCH',
      0,
    ],
    [
      'a source holding a delimiter it is scanned for, across its chunks',
      () => [
        { part: record('s', 8), data: new ListSource([Buffer.from('a\n-'), Buffer.from('-B\r\n')]), scanFor: ['B'] },
      ],
      'ERR_BOUNDARY_IN_DATA',
      0,
    ],
  ])('%s', async (_label, make, code, sentAtMost) => {
    const { error, bytes } = await failureOf(make());
    expect(error).toMatchObject({ name: 'MultipartError', code });
    expect(bytes.length).toBeLessThanOrEqual(sentAtMost);
  });

  it.each(['onProgress', 'onPartProgress'] as const)(
    'a %s that throws fails the stream, its throw the cause',
    async (which) => {
      const thrown = new Error('listener broke');
      const fail = () => {
        throw thrown;
      };
      const { error } = await failureOf([{ part: record('a', 1), data: 'x' }], { ...SETTINGS, [which]: fail });
      expect(error).toMatchObject({ code: 'ERR_CALLBACK_FAILED' });
      expect(error.cause).toBe(thrown);
    },
  );
});

describe('streamPieces: progress', () => {
  it('reports a chunk once the consumer asks for the next, ending at the total', async () => {
    const body: number[] = [];
    const pieces: Piece<string>[] = [
      { part: record('a', 70_000), data: Buffer.alloc(70_000), planned: 70_000 },
      { part: record('b', 80_000), data: new ListSource([Buffer.alloc(30_000), Buffer.alloc(50_000)]) },
    ];
    let taken = 0;
    for await (const chunk of streamPieces(pieces, { ...SETTINGS, onProgress: (_o, current) => body.push(current) })) {
      expect(body.at(-1) ?? 0).toBe(taken); // nothing of this chunk reported yet
      taken += chunk.length;
    }
    expect(body).toEqual([70_000, 100_000, 150_000]); // 30,000 + 50,000 would overflow a batch: two chunks
  });

  it('names the top-level part of the last byte, and reports nested parts with the parts around them', async () => {
    const outer = record('outer', 30);
    const inner = record('inner', 10, outer);
    const bodyCalls: Array<string | undefined> = [];
    const partCalls: Array<[string, number, number | undefined]> = [];
    await chunksOf(
      [
        { part: outer, data: Buffer.from('head') },
        { part: inner, data: '0123456789' },
        { part: undefined, data: Buffer.from('--B--') },
      ],
      {
        ...SETTINGS,
        onProgress: (owner) => bodyCalls.push(owner),
        onPartProgress: (owner, current, total) => partCalls.push([owner, current, total]),
      },
    );
    expect(bodyCalls).toEqual(['outer']);
    expect(partCalls).toEqual([
      ['outer', 4, 30],
      ['inner', 10, 10],
      ['outer', 14, 30],
    ]);
  });

  it('computes the total when none is given, and says undefined for a source of unknown size', async () => {
    const totals: Array<number | undefined> = [];
    const onProgress = (_o: string | undefined, _c: number, total: number | undefined) => totals.push(total);
    await chunksOf([{ part: record('a', 3), data: 'abc' }], { ...SETTINGS, onProgress });
    await chunksOf([{ part: record('s', undefined), data: new ListSource([Buffer.alloc(3)], 'unknown') }], {
      ...SETTINGS,
      onProgress,
    });
    expect(totals).toEqual([3, undefined]);
  });
});

describe('streamPieces: the event loop gets its turns', () => {
  afterEach(() => vi.restoreAllMocks());

  it('over in-memory pieces, the walk yields to the loop once its time slice has passed', async () => {
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (now += 2)); // every look at the clock: 2 ms later
    let turns = 0;
    let counting = true;
    const count = () => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const pieces = wirePieces(textParts(32 * 10, 'v'), { boundary: 'B', disposition: 'form-data', chosen: false });
    await chunksOf(pieces); // a consumer that never waits for the loop itself
    counting = false;
    expect(turns).toBeGreaterThanOrEqual(10); // one turn at least every 32 pieces
  });

  it('with a clock that does not move, it reads the clock only every 32 in-memory pieces', async () => {
    const clock = vi.spyOn(performance, 'now').mockReturnValue(0);
    const pieces = wirePieces(textParts(32 * 10, 'v'), { boundary: 'B', disposition: 'form-data', chosen: false });
    clock.mockClear();
    await chunksOf(pieces);
    expect(clock.mock.calls.length).toBeLessThanOrEqual(1 + Math.ceil(pieces.length / 32));
  });
});
