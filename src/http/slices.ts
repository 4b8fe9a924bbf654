import type { ClientRequest } from 'node:http';

/** Progress is reported at least this often: a block is handed to the socket in slices of this size. */
export const SLICE_BYTES = 64 * 1024;

/**
 * Hands a request body to the socket so that progress can be told at least every
 * 64 KiB of what the kernel took. While the kernel takes whole blocks at once, they
 * are written whole (one syscall per block; their progress is told in 64 KiB steps,
 * true since the kernel took it all at that moment). Once a write is not taken at
 * once (the socket buffer is full: a slow link or server), the rest goes in slices
 * of 64 KiB (views, never copies), one waiting at a time, so each callback tells
 * when the kernel took 64 KiB more: a 1 MiB block written whole would wait in Node's
 * buffer and report only when all of it had gone. The extra writes happen only
 * while the network, not the CPU, sets the pace, and only when someone listens to
 * progress: on a 256 MiB upload to a local server that falls behind, slices cost
 * ~0.1 s of CPU (one wake-up per 64 KiB). `whenPendingAtMost` is the back-pressure
 * for the loop that reads the blocks.
 */
export class SliceWriter {
  readonly #req: ClientRequest;
  readonly #onWritten: (bytes: number) => void;
  readonly #onBlockDone: (block: Buffer) => void;
  readonly #stopped: () => boolean;
  readonly #fine: boolean;
  readonly #blocks: Buffer[] = [];
  /** Offset of the next slice in the first block. */
  #offset = 0;
  /** A write is waiting in Node's buffer (the kernel did not take it at once): the next slice waits for it. */
  #blocked = false;
  /** The kernel's buffer was full at the last write: blocks go out in slices until it is not. */
  #congested = false;
  #pending = 0;
  #waiter: { limit: number; wake: () => void } | undefined;

  /** `fine`: someone listens to progress; without that, blocks always go whole (slices would only cost wake-ups). */
  constructor(
    req: ClientRequest,
    hooks: {
      onWritten: (bytes: number) => void;
      onBlockDone: (block: Buffer) => void;
      stopped: () => boolean;
      fine: boolean;
    },
  ) {
    this.#fine = hooks.fine;
    this.#req = req;
    this.#onWritten = hooks.onWritten;
    this.#onBlockDone = hooks.onBlockDone;
    this.#stopped = hooks.stopped;
  }

  /** Bytes queued here or written but not yet taken by the kernel. */
  get pending(): number {
    return this.#pending;
  }

  /** Bytes not yet handed to the request (queued here): 0 once every byte is in Node's hands. */
  get unwritten(): number {
    let bytes = -this.#offset;
    for (const block of this.#blocks) bytes += block.length;
    return bytes;
  }

  push(block: Buffer): void {
    if (block.length === 0) return;
    this.#blocks.push(block);
    this.#pending += block.length;
    this.#pump();
  }

  /** Resolves once at most `limit` bytes are pending, or the request has stopped (see `wake`). */
  whenPendingAtMost(limit: number): Promise<void> {
    if (this.#pending <= limit || this.#stopped()) return Promise.resolve();
    return new Promise((resolve) => (this.#waiter = { limit, wake: resolve }));
  }

  /** Releases a waiter: the request has an answer or failed, and nothing more will be written. */
  wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.wake();
  }

  #pump(): void {
    // A write that returns true is in the kernel or small: the next one follows at once. One
    // that returns false waits in Node's buffer: the next one waits for its callback.
    while (!this.#blocked && !this.#stopped()) {
      const block = this.#blocks[0];
      if (block === undefined) return;
      const start = this.#offset;
      const end = this.#congested ? Math.min(start + SLICE_BYTES, block.length) : block.length;
      const last = end === block.length;
      if (last) {
        this.#blocks.shift();
        this.#offset = 0;
      } else {
        this.#offset = end;
      }
      const taken = this.#req.write(start === 0 && last ? block : block.subarray(start, end), (error) => {
        if (error) {
          this.#blocked = true; // the request is failing: nothing more goes out
          return this.wake();
        }
        this.#pending -= end - start;
        // Taken by the kernel together: told in steps of at most 64 KiB all the same.
        for (let at = start; at < end; at += SLICE_BYTES) this.#onWritten(Math.min(SLICE_BYTES, end - at));
        if (last) this.#onBlockDone(block); // the socket is done with it: its block can be read into again
        if (!taken) {
          this.#blocked = false;
          this.#pump();
        }
        const waiter = this.#waiter;
        if (waiter !== undefined && (this.#pending <= waiter.limit || this.#stopped())) this.wake();
      });
      // Bytes the kernel did not take at once (its buffer is full): from now on slices, so that
      // each callback tells when the kernel took 64 KiB more. Whole blocks again once it keeps up.
      const socket = this.#req.socket;
      this.#congested = this.#fine && socket !== null && !socket.connecting && socket.writableLength > 0;
      if (!taken) this.#blocked = true;
    }
  }
}
