/**
 * A few block-sized buffers to read files into again. Only a consumer that knows
 * when it is done with a chunk (upload(): the socket's write callback) gives
 * chunks back; everyone else gets fresh buffers. Reusing them spares the page
 * faults and garbage collection of a new 1 MiB buffer per block.
 */
export class BlockPool {
  readonly #free: Buffer[] = [];
  /** Only buffers this pool made may come back: a chunk can also be the caller's own bytes. */
  readonly #made = new WeakSet<Uint8Array>();

  constructor(
    readonly blockSize: number,
    private readonly capacity = 4,
  ) {}

  take(size: number): Buffer {
    const reused = size === this.blockSize ? this.#free.pop() : undefined;
    if (reused) return reused;
    const buffer = Buffer.allocUnsafe(size);
    if (size === this.blockSize) this.#made.add(buffer);
    return buffer;
  }

  /** Hands a chunk back; only whole blocks this pool made are kept. */
  give(chunk: Uint8Array): void {
    if (this.#made.has(chunk) && this.#free.length < this.capacity) this.#free.push(chunk as Buffer);
  }
}
