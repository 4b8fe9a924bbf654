import type { ClientHttp2Stream } from 'node:http2';
import { UploadError } from '../../common/errors.js';
import { recyclingChunks, type EncodedBody } from '../../multipart/encode.js';
import { paced, RateLimiter, type Clock } from '../rate.js';
import { pump, STOPPED } from '../pump.js';
import { watchRejection } from '../../common/callback.js';
import { callbackError } from '../callback-error.js';

/** Progress is told at least this often (one DATA frame at the default frame size): blocks go to the stream in views of this size. */
const SLICE_BYTES = 16 * 1024;
/**
 * Slices handed to the stream and not yet sent, at most: one the session is sending and one waiting
 * behind it. Node hands every slice that waits behind a write to the session as one batch whose
 * callbacks all run once the whole batch went out: with more waiting, a peer that holds its window
 * shut would leave progress untold for all of them. One slice waiting keeps the session fed.
 */
const IN_FLIGHT_SLICES = 2;

export interface BodyHooks {
  onUploadProgress: ((loaded: number, total: number | undefined) => void) | undefined;
  maxRate: number | undefined;
  /** True once the attempt has an answer or has failed: nothing more is written. */
  stopped(): boolean;
  /** Resolves on the event `listen` subscribes to, or as soon as the attempt stops. */
  wakeOn(listen: (wake: () => void) => () => void): Promise<void>;
  /** Fails the attempt (a progress callback threw). */
  fail(error: UploadError): void;
  /** An `async` callback's rejection, which comes after its call (see the attempt's #late). */
  late(error: UploadError): void;
  /** Runs once the stream has ended, every byte sent (for onBodySent). */
  onEnded(): void;
  clock?: Clock;
}

/**
 * Writes the body into an HTTP/2 stream. A write's callback runs once its bytes have left the
 * session for the socket, which flow control allows only as the peer opens its window: progress
 * counts those bytes. Resolves true once every byte went out and the stream was ended, false if the
 * attempt stopped first (an early answer, a failure). Rejects with ERR_SIZE_MISMATCH when the body
 * disagrees with its Content-Length.
 */
export async function writeBody(stream: ClientHttp2Stream, encoded: EncodedBody, hooks: BodyHooks): Promise<boolean> {
  const total = encoded.contentLength;
  const limiter = hooks.maxRate === undefined ? undefined : new RateLimiter(hooks.maxRate, hooks.clock);
  const sliceBytes = Math.min(limiter?.sliceBytes ?? SLICE_BYTES, SLICE_BYTES);
  const { chunks, recycle } = recyclingChunks(encoded.body);
  const progress = new InFlight(stream, total, hooks, recycle);
  const send = (chunk: Buffer) => sendChunk(chunk, sliceBytes, limiter, progress);
  let last: Buffer | undefined;
  try {
    last = await pump(chunks, send, total, () => hooks.stopped());
  } finally {
    await chunks.return?.();
  }
  if (last === STOPPED || (last !== undefined && !(await send(last)))) return false;
  if (!(await progress.drained(0))) return false;
  stream.end(() => hooks.onEnded());
  return true;
}

/** Hands one chunk to the stream in views of `sliceBytes` (at the rate's pace, with a limiter); false if the attempt stopped meanwhile. */
function sendChunk(
  chunk: Buffer,
  sliceBytes: number,
  limiter: RateLimiter | undefined,
  progress: InFlight,
): Promise<boolean> {
  const end = chunk.byteOffset + chunk.length;
  const send = async (piece: Buffer) => {
    for (let at = 0; at < piece.length; at += sliceBytes) {
      const slice = piece.subarray(at, at + sliceBytes);
      // The chunk's last slice hands the chunk back to be read into, once the stream is done with it.
      progress.write(slice, slice.byteOffset + slice.length === end ? chunk : undefined);
      const limit = (IN_FLIGHT_SLICES - 1) * sliceBytes;
      if (progress.pending > limit && !(await progress.drained(limit))) return false;
    }
    return true;
  };
  return paced(chunk, limiter, (ms) => progress.sleep(ms), send);
}

/** The body's bytes between the writer and the socket: counted, reported, and waited for. */
class InFlight {
  readonly #stream: ClientHttp2Stream;
  readonly #total: number | undefined;
  readonly #hooks: BodyHooks;
  readonly #recycle: (block: Buffer) => void;
  #pending = 0;
  #loaded = 0;
  #failed = false;
  #waiter: { limit: number; wake: () => void } | undefined;

  constructor(
    stream: ClientHttp2Stream,
    total: number | undefined,
    hooks: BodyHooks,
    recycle: (block: Buffer) => void,
  ) {
    this.#recycle = recycle;
    this.#stream = stream;
    this.#total = total;
    this.#hooks = hooks;
  }

  get pending(): number {
    return this.#pending;
  }

  write(piece: Buffer, block: Buffer | undefined): void {
    this.#pending += piece.length;
    this.#stream.write(piece, (error) => {
      if (error) {
        this.#failed = true; // the stream is failing: the attempt hears of it on its own
        return this.#wake();
      }
      this.#pending -= piece.length;
      this.#loaded += piece.length;
      if (block !== undefined) this.#recycle(block);
      this.#report();
      const waiter = this.#waiter;
      if (waiter !== undefined && this.#pending <= waiter.limit) this.#wake();
    });
  }

  #report(): void {
    const onProgress = this.#hooks.onUploadProgress;
    if (onProgress === undefined || this.#failed) return;
    try {
      watchRejection(onProgress(this.#loaded, this.#total), this.#rejected);
    } catch (cause) {
      this.#failed = true;
      this.#hooks.fail(callbackError('onUploadProgress', cause));
    }
  }

  /** An `async` onUploadProgress's rejection: made once, not at every report. */
  readonly #rejected = (cause: unknown): void => {
    if (this.#failed) return;
    this.#failed = true;
    this.#hooks.late(callbackError('onUploadProgress', cause));
  };

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.wake();
  }

  /** Waits until at most `limit` bytes are unsent; false if the attempt stopped meanwhile. */
  async drained(limit: number): Promise<boolean> {
    if (this.#pending > limit && !this.#failed) {
      await this.#hooks.wakeOn((wake) => {
        this.#waiter = { limit, wake };
        return () => {
          if (this.#waiter?.wake === wake) this.#waiter = undefined;
        };
      });
    }
    return !(this.#failed || this.#hooks.stopped());
  }

  /** Waits `ms` (the rate limit); false if the attempt stopped meanwhile. */
  async sleep(ms: number): Promise<boolean> {
    await this.#hooks.wakeOn((wake) => {
      const timer = setTimeout(wake, ms);
      return () => clearTimeout(timer);
    });
    return !(this.#failed || this.#hooks.stopped());
  }
}
