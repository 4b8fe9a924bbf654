import { openAsBlob, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MultipartError, multipartEncode, MultipartParam } from '../../../src/index.js';
import { bytes, tempDir, writeFile } from '../../helpers/files.js';
import { collect, parseWithBusboy } from '../../helpers/parse.js';
import { drainOrCode } from '../../helpers/outcome.js';

// A Blob or File part (src/multipart/sources/blob.ts): recognised by shape, sized once, read again
// for every pass; whatever a Blob-like does wrong ends typed.
const dir = tempDir();
const data = bytes(200_000, 7);

/** A Blob-like by shape, whose parts a row replaces. */
function blobLike(overrides: Record<string, unknown> = {}, content = 'abc'): Record<string, unknown> {
  const real = new Blob([content]);
  return {
    size: real.size,
    type: '',
    stream: () => real.stream(),
    slice: () => real,
    arrayBuffer: () => real.arrayBuffer(),
    ...overrides,
  };
}

function getterThatThrows(): PropertyDescriptor {
  return {
    get() {
      throw new Error('getter');
    },
    enumerable: true,
  };
}

describe('every kind of Blob streams its bytes exactly, and again', () => {
  it('a Blob, a File and fs.openAsBlob', async () => {
    const path = writeFile(dir, 'blob.bin', data);
    for (const blob of [new Blob([data]), new File([data], 'x.bin'), await openAsBlob(path)]) {
      const form = await multipartEncode([new MultipartParam('f', { fileobj: blob })]);
      for (let pass = 0; pass < 2; pass++) {
        const body = await collect(form.body);
        expect(body.length).toBe(form.contentLength);
        const [part] = await parseWithBusboy(form.headers, body);
        expect(part!.data.equals(data)).toBe(true);
      }
    }
  });

  it('a File lends its name and type; a nameless Blob is "blob"; a type with a control character is not lent', () => {
    expect(new MultipartParam('a', { fileobj: new File(['x'], 'pic.gif', { type: 'image/gif' }) })).toMatchObject({
      filename: 'pic.gif',
      filetype: 'image/gif',
    });
    expect(new MultipartParam('b', { fileobj: new Blob(['xy'], { type: 'text/csv' }) })).toMatchObject({
      filename: 'blob',
      filetype: 'text/csv',
    });
    const sneaky = blobLike({ type: 'text/plain\r\nX-Injected: 1', name: 'n.bin' });
    expect(new MultipartParam('c', { fileobj: sneaky as never })).toMatchObject({
      filename: 'n.bin',
      filetype: 'application/octet-stream',
    });
  });

  it('a file-backed Blob whose file changed fails with ERR_FILE_UNREADABLE', async () => {
    const path = writeFile(dir, 'changing-blob.bin', 'original');
    const blob = await openAsBlob(path);
    writeFileSync(path, 'changed and longer');
    const form = await multipartEncode([new MultipartParam('b', { fileobj: blob })]);
    expect(await drainOrCode(form.body)).toBe('ERR_FILE_UNREADABLE b');
  });
});

describe('hostile Blob-likes', () => {
  it("a Blob-like's size is taken once: one that grows later fails the stream, never the length", async () => {
    let size = 3;
    const liar = blobLike({}, 'abcdefgh');
    Object.defineProperty(liar, 'size', { get: () => size });
    const form = await multipartEncode({ f: liar as never }, { boundary: 'B' });
    size = 8;
    const head =
      '--B\r\nContent-Disposition: form-data; name="f"; filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n';
    expect(form.contentLength).toBe(head.length + 3 + '\r\n--B--\r\n'.length);
    expect(await drainOrCode(form.body)).toBe('ERR_SIZE_MISMATCH f');
  });

  it.each<[string, unknown, string]>([
    ['a NaN size', NaN, 'ERR_INVALID_VALUE f'],
    ['a negative size', -1, 'ERR_INVALID_VALUE f'],
    ['a fractional size', 1.5, 'ERR_INVALID_VALUE f'],
    ['an Infinity size', Infinity, 'ERR_INVALID_VALUE f'],
    ['a size past 2^53', 2 ** 53, 'ERR_INVALID_VALUE f'],
  ])('%s is refused when the part is made', (_label, size, expected) => {
    let error: unknown;
    try {
      new MultipartParam('f', { fileobj: blobLike({ size }) as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MultipartError);
    expect(`${(error as MultipartError).code} ${(error as MultipartError).paramName}`).toBe(expected);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'stream() throws',
      {
        stream: () => {
          throw new Error('boom');
        },
      },
      'ERR_SOURCE_FAILED f',
    ],
    ['stream() gives null', { stream: () => null }, 'ERR_SOURCE_FAILED f'],
    ['stream() gives a plain object', { stream: () => ({}) }, 'ERR_SOURCE_FAILED f'],
    [
      'its stream yields a string',
      {
        stream: async function* () {
          yield 'abc';
        },
      },
      'ERR_INVALID_VALUE f',
    ],
    [
      'its stream fails half way',
      {
        stream: async function* () {
          yield Buffer.from('a');
          throw new Error('disk gone');
        },
      },
      'ERR_FILE_UNREADABLE f',
    ],
    [
      'its stream gives more than its size',
      {
        stream: async function* () {
          yield Buffer.from('abcd');
        },
      },
      'ERR_SIZE_MISMATCH f',
    ],
    [
      'its stream gives less than its size',
      {
        stream: async function* () {
          yield Buffer.from('ab');
        },
      },
      'ERR_SIZE_MISMATCH f',
    ],
    [
      'its ReadableStream errors',
      { stream: () => new ReadableStream({ pull: (controller) => controller.error(new Error('nope')) }) },
      'ERR_FILE_UNREADABLE f',
    ],
  ])('a Blob-like whose %s fails the stream, typed', async (_label, overrides, expected) => {
    const form = await multipartEncode({ f: blobLike(overrides) as never });
    expect(await drainOrCode(form.body)).toBe(expected);
  });

  it('getters that throw (name, type) count as absent, not as a crash', async () => {
    const blob = blobLike();
    Object.defineProperty(blob, 'name', getterThatThrows());
    const param = new MultipartParam('f', { fileobj: blob as never });
    expect(param).toMatchObject({ filename: 'blob', filetype: 'application/octet-stream' });
    const typeThrows = blobLike();
    Object.defineProperty(typeThrows, 'type', getterThatThrows());
    // Not a Blob by shape (its type cannot be read): refused as a value, typed.
    expect(() => new MultipartParam('f', { fileobj: typeThrows as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_VALUE' }),
    );
  });

  it('leaving early cancels the Blob stream', async () => {
    let cancelled = false;
    const stream = () =>
      new ReadableStream<Uint8Array>({
        pull: (controller) => controller.enqueue(new Uint8Array(100_000)),
        cancel: () => {
          cancelled = true;
        },
      });
    const form = await multipartEncode({ f: blobLike({ size: 10_000_000, stream }) as never });
    for await (const _chunk of form.body) break;
    expect(cancelled).toBe(true);
  });

  it('a stream whose iterator returns a plain object, not a promise, is read and left as for-await leaves it', async () => {
    /** A polyfill's stream: a hand-written async iterator of "abc" whose return() answers at once. */
    const stream = () => {
      let done = false;
      return {
        [Symbol.asyncIterator]: () => ({
          next: () =>
            Promise.resolve(
              done ? { done, value: undefined } : ((done = true), { done: false, value: Buffer.from('abc') }),
            ),
          return: () => ({ done: true, value: undefined }),
        }),
      };
    };
    const form = await multipartEncode({ f: blobLike({ stream }) as never });
    expect((await parseWithBusboy(form.headers, await collect(form.body)))[0]!.data.toString()).toBe('abc');
    const short = await multipartEncode({ f: blobLike({ stream, size: 5 }) as never });
    expect(await drainOrCode(short.body)).toBe('ERR_SIZE_MISMATCH f');
  });

  it.each([null, 42, undefined])('a stream whose next() resolves to %s fails typed', async (result) => {
    const stream = () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(result) }) });
    const form = await multipartEncode({ f: blobLike({ stream }) as never });
    expect(await drainOrCode(form.body)).toBe('ERR_FILE_UNREADABLE f');
  });

  it('a stream whose result has a throwing done getter, or a value that changes when read again, fails typed', async () => {
    const results = [
      Object.defineProperty({ value: Buffer.from('abc') }, 'done', {
        get: () => {
          throw new Error('done getter');
        },
      }),
      // Bytes when read once, a string when read again: the bytes checked are the bytes sent.
      Object.defineProperty({ done: false }, 'value', {
        get: (() => {
          let reads = 0;
          return () => (reads++ === 0 ? Buffer.from('abc') : 'not bytes');
        })(),
      }),
    ];
    const [throwing, twoFaced] = results.map((result) => () => {
      let given = false;
      return {
        [Symbol.asyncIterator]: () => ({
          next: () => Promise.resolve(given ? { done: true } : ((given = true), result)),
        }),
      };
    });
    const failing = await multipartEncode({ f: blobLike({ stream: throwing }) as never });
    expect(await drainOrCode(failing.body)).toBe('ERR_FILE_UNREADABLE f');
    const form = await multipartEncode({ f: blobLike({ stream: twoFaced }) as never });
    expect((await parseWithBusboy(form.headers, await collect(form.body)))[0]!.data.toString()).toBe('abc');
  });

  /** Resolves to what `promise` gives within a second, else to 'still pending'. */
  function within<T>(promise: Promise<T>): Promise<T | 'still pending'> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'still pending'>((resolve) => (timer = setTimeout(() => resolve('still pending'), 1000)));
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  }

  it.each([
    [
      'a ReadableStream',
      (cancel: () => void) => new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}), cancel }),
    ],
    [
      'an async iterable',
      (cancel: () => void) => ({
        [Symbol.asyncIterator]: () => ({
          next: () => new Promise(() => {}),
          return: () => (cancel(), new Promise(() => {})), // as an async generator's, queued behind its next()
        }),
      }),
    ],
  ])(
    'a Blob-like whose stream (%s) falls silent: toReadableStream().cancel() and return() settle at once',
    async (_kind, silent) => {
      let cancels = 0;
      const form = await multipartEncode({ f: blobLike({ stream: () => silent(() => cancels++) }) as never });
      const reader = form.toReadableStream().getReader();
      const pending = reader.read(); // the framing waits in the batch: the body now awaits the Blob's first chunk
      await new Promise(setImmediate);
      expect(await within(reader.cancel().then(() => 'cancelled'))).toBe('cancelled');
      expect(cancels).toBeGreaterThan(0);
      expect(await within(pending)).toMatchObject({ done: true });

      const chunks = form.body[Symbol.asyncIterator]();
      const next = chunks.next();
      await new Promise(setImmediate);
      expect(await within(chunks.return().then(() => 'returned'))).toBe('returned');
      void next.catch(() => {});
    },
  );
});
