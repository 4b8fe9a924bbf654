import { execFileSync } from 'node:child_process';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir, writeFile } from '../helpers/files.js';
import { MultipartError, MultipartParam, multipartEncode, rawBody } from '../../src/index.js';

/** Reads a body whole; a failure comes back as its error code (or 'untyped'). */
async function drain(body: AsyncIterable<Buffer>): Promise<Buffer | string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body) chunks.push(chunk);
  } catch (error) {
    return error instanceof MultipartError
      ? `${error.code} ${error.paramName ?? ''}`.trim()
      : `untyped: ${String(error)}`;
  }
  return Buffer.concat(chunks);
}

/** ES2024's resizable ArrayBuffer (Node 20 has it; the ES2023 lib does not type it). */
const ResizableBuffer = ArrayBuffer as unknown as new (
  length: number,
  options: { maxByteLength: number },
) => ArrayBuffer & { resize(length: number): void };

/** A generator that yields the same buffer again and again, rewriting it after each yield. */
async function* reusing(letters: string, size: number): AsyncGenerator<Uint8Array> {
  const buffer = Buffer.alloc(size);
  for (const letter of letters) {
    buffer.fill(letter);
    yield buffer;
  }
}

describe('hostile sources: the body is what was declared, or the stream fails typed', () => {
  const rows: Array<
    [string, () => Promise<{ body: AsyncIterable<Buffer>; contentLength: number | undefined }>, string | RegExp]
  > = [
    [
      'a stream that reuses its buffer after each yield (small chunks)',
      () => multipartEncode([new MultipartParam('s', { fileobj: reusing('ABC', 4), filesize: 12 })]),
      /AAAABBBBCCCC/,
    ],
    [
      'a stream that reuses its buffer after each yield (large chunks)',
      () => multipartEncode([new MultipartParam('s', { fileobj: reusing('AB', 100_000), filesize: 200_000 })]),
      /A{100000}B{100000}/,
    ],
    [
      'a resizable ArrayBuffer grown after encoding',
      async () => {
        const buffer = new ResizableBuffer(4, { maxByteLength: 64 });
        const encoded = await rawBody(new Uint8Array(buffer).fill(65));
        buffer.resize(64);
        return encoded;
      },
      /^AAAA$/,
    ],
    [
      'a resizable ArrayBuffer shrunk after encoding',
      async () => {
        const buffer = new ResizableBuffer(8, { maxByteLength: 64 });
        const encoded = await multipartEncode({ r: new Uint8Array(buffer) });
        buffer.resize(2);
        return encoded;
      },
      'ERR_SIZE_MISMATCH r',
    ],
    [
      'a buffer detached (transferred) after encoding',
      async () => {
        const bytes = new Uint8Array(16);
        const encoded = await multipartEncode({ d: bytes });
        structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
        return encoded;
      },
      'ERR_SIZE_MISMATCH d',
    ],
    [
      'a stream that throws',
      async () => {
        async function* failing(): AsyncGenerator<Uint8Array> {
          yield Buffer.from('x');
          throw new Error('disk on fire');
        }
        return multipartEncode([new MultipartParam('f', { fileobj: failing() })]);
      },
      'ERR_SOURCE_FAILED f',
    ],
    [
      'a locked ReadableStream',
      async () => {
        const stream = new ReadableStream<Uint8Array>({ pull: (c) => c.close() });
        stream.getReader();
        return multipartEncode([new MultipartParam('l', { fileobj: stream })]);
      },
      'ERR_SOURCE_FAILED l',
    ],
    [
      'a stream that yields a number',
      async () => {
        async function* numbers(): AsyncGenerator<unknown> {
          yield 42;
        }
        return multipartEncode([new MultipartParam('n', { fileobj: numbers() as AsyncIterable<Uint8Array> })]);
      },
      'ERR_INVALID_VALUE n',
    ],
    [
      'one generator given to two parts',
      async () => {
        const shared = reusing('AB', 3);
        return multipartEncode([
          new MultipartParam('one', { fileobj: shared }),
          new MultipartParam('two', { fileobj: shared }),
        ]);
      },
      'ERR_SOURCE_CONSUMED two',
    ],
    [
      'a stream that lies about its size (shorter)',
      () => multipartEncode([new MultipartParam('z', { fileobj: reusing('A', 3), filesize: 5 })]),
      'ERR_SIZE_MISMATCH z',
    ],
    [
      'a stream that lies about its size (longer)',
      () => multipartEncode([new MultipartParam('z', { fileobj: reusing('AB', 3), filesize: 4 })]),
      'ERR_SIZE_MISMATCH z',
    ],
    [
      'an onProgress that throws',
      () =>
        multipartEncode(
          { a: 'x' },
          {
            onProgress: () => {
              throw new Error('no');
            },
          },
        ),
      'ERR_CALLBACK_FAILED',
    ],
    [
      'a param cb that throws',
      async () =>
        multipartEncode([
          new MultipartParam('c', {
            value: 'x',
            cb: () => {
              throw new Error('no');
            },
          }),
        ]),
      'ERR_CALLBACK_FAILED',
    ],
  ];

  for (const [label, make, expected] of rows) {
    it(label, async () => {
      const { body, contentLength } = await make();
      const outcome = await drain(body);
      if (typeof expected === 'string') {
        expect(outcome).toBe(expected);
      } else {
        expect(Buffer.isBuffer(outcome), String(outcome)).toBe(true);
        expect((outcome as Buffer).toString('latin1')).toMatch(expected);
        expect((outcome as Buffer).length).toBe(contentLength);
      }
    });
  }
});

describe('hostile arguments', () => {
  it('an unknown or misspelled encode option is an error naming it', async () => {
    await expect(multipartEncode({ a: 'x' }, { onUploadProgress: () => {} } as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining('onUploadProgress'),
    });
    await expect(rawBody(new Uint8Array(1), { contentType: 'x/y' } as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
    await expect(multipartEncode({ a: 'x' }, { onProgress: 'yes' } as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
  });

  it('iterEncode() validates its boundary like every sibling', () => {
    expect(() => new MultipartParam('a', { value: 'x' }).iterEncode('b\r\nX-Injected: 1')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_BOUNDARY' }),
    );
  });

  it('a nameless Blob is a file part named "blob", as browsers send it', async () => {
    const { body } = await multipartEncode({ b: new Blob(['hi']) }, { boundary: 'B' });
    expect((await drain(body)).toString()).toContain(
      'Content-Disposition: form-data; name="b"; filename="blob"\r\nContent-Type: application/octet-stream\r\n',
    );
  });
});

describe('a path swapped after it was measured', () => {
  const dir = tempDir();
  const swaps: Array<[string, (path: string) => void, string]> = [
    ['for a FIFO nobody writes to', (path) => execFileSync('mkfifo', [path]), 'ERR_FILE_UNREADABLE f'],
    ['for a link to /dev/zero', (path) => symlinkSync('/dev/zero', path), 'ERR_FILE_UNREADABLE f'],
    [
      'for another file of the same size',
      (path) => writeFileSync(path, Buffer.alloc(sizeOf(path), 1)),
      'ERR_SIZE_MISMATCH f',
    ],
  ];
  const sizes = { small: 100, large: 200_000 };
  const sizeOf = (path: string) => sizes[path.endsWith('small') ? 'small' : 'large'];
  for (const [label, swap, expected] of swaps) {
    for (const [kind, size] of Object.entries(sizes)) {
      it(`${label} (${kind} file): refused, not read, nothing blocks`, async () => {
        const path = writeFile(dir, `${label.replace(/\W/g, '-')}-${kind}`, Buffer.alloc(size));
        const form = await multipartEncode([await MultipartParam.fromFile('f', path)]);
        rmSync(path);
        swap(path);
        expect(await drain(form.body)).toBe(expected);
      });
    }
  }
});
