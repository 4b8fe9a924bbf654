import { recyclingChunks, type EncodedBody, type UploadBody } from '../multipart/encode.js';
import type { BlockPool } from '../multipart/sources.js';

/** The mark upload() knows a body by (src/multipart/encode.ts sets it on its own bodies). */
const BODY_BRAND = Symbol.for('multipart-poster.UploadBody');

/** Called when a pass over the body begins (each attempt reads it again); returns what sees its chunks. */
export type OnPass = () => (chunk: Buffer) => void;

/**
 * A piece's body as upload() reads it: its file blocks come from the pool all pieces share (taken
 * back only after the socket's write callback), so a new piece reads into blocks already made
 * instead of leaving the last piece's to the collector. A watcher (a hash) may see each chunk as
 * it goes out: one pass over the file serves both, and every pass (a retry) starts a new one.
 */
class PieceBody implements UploadBody {
  readonly #inner: UploadBody;
  readonly #pool: BlockPool;
  readonly #onPass: OnPass | undefined;

  constructor(inner: UploadBody, pool: BlockPool, onPass: OnPass | undefined) {
    this.#inner = inner;
    this.#pool = pool;
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
    const chunks = this.#inner[Symbol.asyncIterator]();
    return this.#onPass === undefined ? chunks : watch(chunks, this.#onPass());
  }

  /** upload()'s way in: blocks of the shared pool, each seen before it is written. */
  recycling(): { chunks: AsyncGenerator<Buffer, void, undefined>; recycle: (chunk: Buffer) => void } {
    const { chunks, recycle } = recyclingChunks(this.#inner, { pool: this.#pool });
    return { chunks: this.#onPass === undefined ? chunks : watch(chunks, this.#onPass()), recycle };
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

/** `encoded` reading into `pool`'s blocks, its chunks shown to the watcher `onPass` starts for each pass (if any). */
export function pieceBody(encoded: EncodedBody, pool: BlockPool, onPass?: OnPass): EncodedBody {
  const body = new PieceBody(encoded.body, pool, onPass);
  return {
    body,
    headers: encoded.headers,
    contentLength: encoded.contentLength,
    toBlob: () => encoded.toBlob(),
    toReadableStream: () => encoded.toReadableStream(),
    dispose: () => encoded.dispose(),
  };
}
