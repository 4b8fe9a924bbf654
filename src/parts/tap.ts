import { recyclingChunks, type EncodedBody, type UploadBody } from '../multipart/encode.js';

/** The mark upload() knows a body by (src/multipart/encode.ts sets it on its own bodies). */
const BODY_BRAND = Symbol.for('multipart-poster.UploadBody');

/** Called when a pass over the body begins (each attempt reads it again); returns what sees its chunks. */
export type OnPass = () => (chunk: Buffer) => void;

/**
 * A body whose chunks are also shown to a watcher (a hash) as they are read to be sent: one pass
 * over the file serves both. Every pass (a retry sends the body again) starts a new watcher.
 */
class TappedBody implements UploadBody {
  readonly #inner: UploadBody;
  readonly #onPass: OnPass;

  constructor(inner: UploadBody, onPass: OnPass) {
    this.#inner = inner;
    this.#onPass = onPass;
  }

  get [BODY_BRAND](): true {
    return true;
  }

  get length(): number | undefined {
    return this.#inner.length;
  }

  get replayable(): boolean {
    return this.#inner.replayable;
  }

  [Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    return watch(this.#inner[Symbol.asyncIterator](), this.#onPass());
  }

  /** upload()'s way in: the inner body's recycled blocks, each seen before it is written. */
  recycling(): { chunks: AsyncGenerator<Buffer, void, undefined>; recycle: (chunk: Buffer) => void } {
    const { chunks, recycle } = recyclingChunks(this.#inner);
    return { chunks: watch(chunks, this.#onPass()), recycle };
  }
}

async function* watch(
  chunks: AsyncGenerator<Buffer, void, undefined>,
  see: (chunk: Buffer) => void,
): AsyncGenerator<Buffer, void, undefined> {
  try {
    for (;;) {
      const { value, done } = await chunks.next();
      if (done) return;
      see(value);
      yield value;
    }
  } finally {
    await chunks.return();
  }
}

/** `encoded` with its chunks shown to the watcher `onPass` starts for each pass. */
export function tapped(encoded: EncodedBody, onPass: OnPass): EncodedBody {
  const body = new TappedBody(encoded.body, onPass);
  return {
    body,
    headers: encoded.headers,
    contentLength: encoded.contentLength,
    toBlob: () => encoded.toBlob(),
    toReadableStream: () => encoded.toReadableStream(),
    dispose: () => encoded.dispose(),
  };
}
