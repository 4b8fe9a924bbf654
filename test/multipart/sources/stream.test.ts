import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MultipartError, multipartEncode, MultipartParam } from '../../../src/index.js';
import { bytes, tempDir, writeFile } from '../../helpers/files.js';
import { collect, parseWithBusboy } from '../../helpers/parse.js';
import { drainOrCode } from '../../helpers/outcome.js';

// A caller's stream as a part (src/multipart/sources/stream.ts): a Node Readable, a web
// ReadableStream or any async iterable; read once, sized when declared (or an fs.ReadStream's
// file), its chunks kept from the caller's reuse; whatever it does wrong ends typed.
const dir = tempDir();
const data = bytes(200_000, 7);

/** A generator that yields the same buffer again and again, rewriting it after each yield. */
async function* reusing(letters: string, size: number): AsyncGenerator<Uint8Array> {
  const buffer = Buffer.alloc(size);
  for (const letter of letters) {
    buffer.fill(letter);
    yield buffer;
  }
}

async function roundTrip(options: ConstructorParameters<typeof MultipartParam>[1]) {
  const form = await multipartEncode([new MultipartParam('f', options)]);
  const body = await collect(form.body);
  if (form.contentLength !== undefined) expect(body.length).toBe(form.contentLength);
  const [part] = await parseWithBusboy(form.headers, body);
  return { form, part: part! };
}

describe('every kind of stream streams its bytes exactly', () => {
  it('a Node Readable, a web ReadableStream and an async iterable, with a size given', async () => {
    const sources = [
      Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
      new Blob([data]).stream(),
      (async function* () {
        yield data.subarray(0, 5);
        yield data.subarray(5);
      })(),
    ];
    for (const fileobj of sources) {
      const { part } = await roundTrip({ fileobj, filesize: data.length, filename: 's.bin' });
      expect(part.data.equals(data)).toBe(true);
    }
  });

  it('an fs.ReadStream knows its size from stat, like poster did for file objects', async () => {
    const path = writeFile(dir, 'rs.bin', data);
    const unread = createReadStream(path);
    expect(new MultipartParam('f', { fileobj: unread }).size).toBe(data.length);
    unread.destroy();
    const slice = new MultipartParam('f', { fileobj: createReadStream(path, { start: 10, end: 19 }) });
    expect(slice.size).toBe(10);
    const form = await multipartEncode([slice]);
    const [part] = await parseWithBusboy(form.headers, await collect(form.body));
    expect(part!.data.equals(data.subarray(10, 20))).toBe(true);
  });

  it('a stream of unknown size has no Content-Length and still encodes', async () => {
    const { form, part } = await roundTrip({ fileobj: Readable.from([data]) });
    expect(form.contentLength).toBeUndefined();
    expect(form.headers['Content-Length']).toBeUndefined();
    expect(part.data.equals(data)).toBe(true);
  });

  it('a stream yielding strings is sent as UTF-8', async () => {
    const { part } = await roundTrip({ fileobj: Readable.from(['☃']), filesize: 3 });
    expect(part.data.toString()).toBe('☃');
  });

  it('a stream read once says so when iterated again, before yielding a byte', async () => {
    const form = await multipartEncode({ s: Readable.from([Buffer.from('abc')]), t: 'text' });
    await collect(form.body);
    expect(form.body.replayable).toBe(false);
    const seen: Buffer[] = [];
    await expect(
      (async () => {
        for await (const chunk of form.body) seen.push(chunk);
      })(),
    ).rejects.toMatchObject({ code: 'ERR_SOURCE_CONSUMED', paramName: 's' });
    expect(seen).toHaveLength(0);
  });

  it('leaving early returns the caller iterator (its finally runs)', async () => {
    let released = false;
    async function* endless() {
      try {
        for (;;) yield Buffer.alloc(100_000);
      } finally {
        released = true;
      }
    }
    const form = await multipartEncode([new MultipartParam('s', { fileobj: endless() })]);
    for await (const _chunk of form.body) break;
    expect(released).toBe(true);
  });
});

describe('hostile streams: the body is what was declared, or the stream fails typed', () => {
  const rows: Array<[string, () => MultipartParam[] | Promise<MultipartParam[]>, string | RegExp]> = [
    [
      'a stream that reuses its buffer after each yield (small chunks)',
      () => [new MultipartParam('s', { fileobj: reusing('ABC', 4), filesize: 12 })],
      /AAAABBBBCCCC/,
    ],
    [
      'a stream that reuses its buffer after each yield (large chunks)',
      () => [new MultipartParam('s', { fileobj: reusing('AB', 100_000), filesize: 200_000 })],
      /A{100000}B{100000}/,
    ],
    [
      'a stream that throws',
      () => {
        async function* failing(): AsyncGenerator<Uint8Array> {
          yield Buffer.from('x');
          throw new Error('disk on fire');
        }
        return [new MultipartParam('f', { fileobj: failing() })];
      },
      'ERR_SOURCE_FAILED f',
    ],
    [
      'a stream that throws a string',
      () => {
        async function* failing(): AsyncGenerator<Uint8Array> {
          yield Buffer.from('x');
          throw 'not an Error';
        }
        return [new MultipartParam('f', { fileobj: failing() })];
      },
      'ERR_SOURCE_FAILED f',
    ],
    [
      'a Readable destroyed with an error',
      () => {
        const stream = new Readable({ read() {} });
        stream.push(Buffer.from('x'));
        setImmediate(() => stream.destroy(new Error('gone')));
        return [new MultipartParam('r', { fileobj: stream })];
      },
      'ERR_SOURCE_FAILED r',
    ],
    [
      'a locked ReadableStream',
      () => {
        const stream = new ReadableStream<Uint8Array>({ pull: (c) => c.close() });
        stream.getReader();
        return [new MultipartParam('l', { fileobj: stream })];
      },
      'ERR_SOURCE_FAILED l',
    ],
    [
      'a stream that yields a number',
      () => {
        async function* numbers(): AsyncGenerator<unknown> {
          yield 42;
        }
        return [new MultipartParam('n', { fileobj: numbers() as AsyncIterable<Uint8Array> })];
      },
      'ERR_INVALID_VALUE n',
    ],
    [
      'a stream that yields objects',
      () => [new MultipartParam('o', { fileobj: Readable.from([{ a: 1 }]) })],
      'ERR_INVALID_VALUE o',
    ],
    [
      'a stream that yields null',
      () => {
        async function* nulls(): AsyncGenerator<unknown> {
          yield null;
        }
        return [new MultipartParam('z', { fileobj: nulls() as AsyncIterable<Uint8Array> })];
      },
      'ERR_INVALID_VALUE z',
    ],
    [
      'one generator given to two parts',
      () => {
        const shared = reusing('AB', 3);
        return [new MultipartParam('one', { fileobj: shared }), new MultipartParam('two', { fileobj: shared })];
      },
      'ERR_SOURCE_CONSUMED two',
    ],
    [
      'a Readable someone else read to its end',
      async () => {
        const ended = Readable.from([Buffer.from('x')]);
        await collect(ended);
        return [new MultipartParam('e', { fileobj: ended, filesize: 1 })];
      },
      'ERR_SOURCE_CONSUMED e',
    ],
    [
      'a destroyed Readable',
      () => {
        const destroyed = new Readable({ read() {} });
        destroyed.destroy();
        return [new MultipartParam('d', { fileobj: destroyed })];
      },
      'ERR_SOURCE_CONSUMED d',
    ],
    [
      'a stream shorter than its size',
      () => [new MultipartParam('z', { fileobj: reusing('A', 3), filesize: 5 })],
      'ERR_SIZE_MISMATCH z',
    ],
    [
      'a stream longer than its size',
      () => [new MultipartParam('z', { fileobj: reusing('AB', 3), filesize: 4 })],
      'ERR_SIZE_MISMATCH z',
    ],
  ];

  for (const [label, make, expected] of rows) {
    it(label, async () => {
      const { body, contentLength } = await multipartEncode(await make());
      const outcome = await drainOrCode(body);
      if (typeof expected === 'string') {
        expect(outcome).toBe(expected);
      } else {
        expect(Buffer.isBuffer(outcome), String(outcome)).toBe(true);
        expect((outcome as Buffer).toString('latin1')).toMatch(expected);
        expect((outcome as Buffer).length).toBe(contentLength);
      }
    });
  }

  /** An iterator whose every next() resolves to `result`; `returned()` tells whether it was asked to return. */
  function resolvingTo(result: unknown): { fileobj: AsyncIterable<Uint8Array>; returned: () => boolean } {
    let returned = false;
    const fileobj = {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve(result),
        return: () => ((returned = true), Promise.resolve({ done: true, value: undefined })),
      }),
    } as unknown as AsyncIterable<Uint8Array>;
    return { fileobj, returned: () => returned };
  }

  it.each([null, 42, 'abc', undefined])('an iterator whose next() resolves to %s fails typed', async (result) => {
    const { fileobj, returned } = resolvingTo(result);
    const form = await multipartEncode([new MultipartParam('s', { fileobj, filesize: 3 })]);
    expect(await drainOrCode(form.body)).toBe('ERR_SOURCE_FAILED s');
    expect(returned()).toBe(true);
  });

  it.each([
    ['done', false],
    ['value', false],
    ['done', true],
    ['value', true],
  ])('a result whose %s getter throws fails typed (spool: %s)', async (field, spool) => {
    const result = Object.defineProperty({ done: false, value: Buffer.from('abc') }, field, {
      get: () => {
        throw new Error(`${field} getter`);
      },
    });
    const { fileobj, returned } = resolvingTo(result);
    const encoding = multipartEncode([new MultipartParam('s', { fileobj, filesize: 3 })], { spool });
    const outcome = spool
      ? await encoding.then(
          () => 'encoded',
          (error: MultipartError) => `${error.code} ${error.paramName}`,
        )
      : await drainOrCode((await encoding).body);
    expect(outcome).toBe('ERR_SOURCE_FAILED s');
    expect(returned()).toBe(true);
  });

  it('a last result { done: true } whose value getter throws ends the stream, as for-await reads it', async () => {
    let returns = 0;
    let at = 0;
    const fileobj = {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          Promise.resolve(
            at++ === 0
              ? { done: false, value: Buffer.from('abc') }
              : Object.defineProperty({ done: true }, 'value', {
                  get: () => {
                    throw new Error('no value when done');
                  },
                }),
          ),
        return: () => (returns++, Promise.resolve({ done: true, value: undefined })),
      }),
    } as unknown as AsyncIterable<Uint8Array>;
    const form = await multipartEncode([new MultipartParam('s', { fileobj, filesize: 3 })]);
    expect((await parseWithBusboy(form.headers, await collect(form.body)))[0]!.data.toString()).toBe('abc');
    expect(returns).toBe(0);
  });

  describe('an iterator whose return() throws, rejects, gives no promise or never settles: leaving it never fails nor hangs', () => {
    const MiB = 1_048_576;
    const returns: Array<[string, () => unknown]> = [
      [
        'throws',
        () => {
          throw new Error('return boom');
        },
      ],
      ['rejects', () => Promise.reject(new Error('return boom'))],
      ['gives no promise', () => ({ done: true })],
      ['never settles', () => new Promise(() => {})],
    ];
    /** An endless iterable of 1 MiB chunks whose return() does what the row says. */
    const endless = (onReturn: () => unknown) =>
      ({
        [Symbol.asyncIterator]: () => ({
          next: () => Promise.resolve({ done: false, value: Buffer.alloc(MiB) }),
          return: onReturn,
        }),
      }) as unknown as AsyncIterable<Uint8Array>;

    it.each(returns)('return() %s: breaking out of the body is quiet', async (_label, onReturn) => {
      const form = await multipartEncode([new MultipartParam('s', { fileobj: endless(onReturn), filesize: 10 * MiB })]);
      for await (const _chunk of form.body) break;
      const reader = (
        await multipartEncode([new MultipartParam('s', { fileobj: endless(onReturn), filesize: 10 * MiB })])
      )
        .toReadableStream()
        .getReader();
      await reader.read();
      await expect(reader.cancel()).resolves.toBeUndefined();
    });

    it.each(returns)(
      'return() %s: a stream longer than its size is still ERR_SIZE_MISMATCH',
      async (_label, onReturn) => {
        const form = await multipartEncode([
          new MultipartParam('s', { fileobj: endless(onReturn), filesize: MiB / 2 }),
        ]);
        expect(await drainOrCode(form.body)).toBe('ERR_SIZE_MISMATCH s');
      },
    );
  });

  it.each<[string, unknown]>([
    ['a string path', '/etc/passwd'],
    ['a number', 42],
    ['a plain object', { read() {} }],
    ['a sync iterable', [Buffer.from('x')]],
  ])('%s as fileobj is refused when the part is made', (_label, fileobj) => {
    expect(() => new MultipartParam('f', { fileobj: fileobj as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_VALUE', paramName: 'f' }),
    );
  });
});
