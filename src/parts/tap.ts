import { recyclingChunks, type EncodedBody, type UploadBody } from '../multipart/encode.js';
import type { BlockPool } from '../multipart/sources.js';

/** The mark upload() knows a body by (src/multipart/encode.ts sets it on its own bodies). */
const BODY_BRAND = Symbol.for('multipart-poster.UploadBody');

/** Called when a pass over the body begins (each attempt reads it again); returns what sees its chunks. */
export type OnPass = () => (chunk: Buffer) => void;

export interface PieceBodyOptions {
  /** The file blocks every piece of the upload reads into. */
  pool: BlockPool;
  /** Sees each pass's chunks (a hash). */
  onPass?: OnPass | undefined;
  /**
   * Runs before the chunk that ends the piece is handed on; what it throws fails the pass with
   * those bytes unsent. A server that takes a piece's last byte may complete the whole upload
   * (tus, Google), so a source that changed while the piece was read must be caught here.
   */
  beforeLast?: (() => Promise<void>) | undefined;
}

/**
 * A piece's body as upload() reads it: its file blocks come from the pool all pieces share (taken
 * back only after the socket's write callback), so a new piece reads into blocks already made
 * instead of leaving the last piece's to the collector. A watcher (a hash) may see each chunk as
 * it goes out: one pass over the file serves both, and every pass (a retry) starts a new one.
 */
class PieceBody implements UploadBody {
  readonly #inner: UploadBody;
  readonly #length: number;
  readonly #options: PieceBodyOptions;

  constructor(inner: UploadBody, length: number, options: PieceBodyOptions) {
    this.#inner = inner;
    this.#length = length;
    this.#options = options;
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
    return this.#pass(this.#inner[Symbol.asyncIterator]());
  }

  /** upload()'s way in: blocks of the shared pool, each seen before it is written. */
  recycling(): { chunks: AsyncGenerator<Buffer, void, undefined>; recycle: (chunk: Buffer) => void } {
    const { chunks, recycle } = recyclingChunks(this.#inner, { pool: this.#options.pool });
    return { chunks: this.#pass(chunks), recycle };
  }

  #pass(chunks: AsyncGenerator<Buffer, void, undefined>): AsyncGenerator<Buffer, void, undefined> {
    const { onPass, beforeLast } = this.#options;
    if (onPass === undefined && beforeLast === undefined) return chunks;
    return watch(chunks, this.#length, onPass?.(), beforeLast);
  }
}

async function* watch(
  chunks: AsyncGenerator<Buffer, void, undefined>,
  length: number,
  see: ((chunk: Buffer) => void) | undefined,
  beforeLast: (() => Promise<void>) | undefined,
): AsyncGenerator<Buffer, void, undefined> {
  let seen = 0;
  try {
    for (;;) {
      const { value, done } = await chunks.next();
      if (done) return;
      seen += value.length;
      if (seen >= length) await beforeLast?.();
      see?.(value);
      yield value;
    }
  } finally {
    await chunks.return();
  }
}

/** `encoded` reading into the pool's blocks, each pass's chunks shown to `onPass`'s watcher, its last held for `beforeLast`. */
export function pieceBody(encoded: EncodedBody, options: PieceBodyOptions): EncodedBody {
  const body = new PieceBody(encoded.body, encoded.contentLength ?? Infinity, options);
  return {
    body,
    headers: encoded.headers,
    contentLength: encoded.contentLength,
    toBlob: () => encoded.toBlob(),
    toReadableStream: () => encoded.toReadableStream(),
    dispose: () => encoded.dispose(),
  };
}
