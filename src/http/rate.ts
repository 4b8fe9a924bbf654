/**
 * `maxRate`: a cap on how fast a request body is handed to the connection, in bytes per second.
 * The body writer cuts its blocks into pieces of `sliceBytes` and asks `take()` how long to wait
 * before each: waits are timers, so the event loop stays free, and progress is still told per piece.
 */

/** The clock the limiter reads, in milliseconds; tests inject their own. */
export type Clock = () => number;

/** Credit a sender may build up while it was held back by something else (the network, a slow server), in ms of the rate. */
const CATCH_UP_MS = 100;
/** A piece is at most this many ms of the rate, so that waits stay short and progress regular. */
const PIECE_MS = 50;
/** ...and never more than this: the writers' own progress step. */
const MAX_PIECE_BYTES = 64 * 1024;

/**
 * A pacing schedule ("virtual scheduling", as GCRA): each piece is given the moment at which the
 * rate allows it, counted from the start, so late timers do not add up to a slower rate; a sender
 * that fell behind by more than CATCH_UP_MS is not let through faster than that to make up for it.
 */
export class RateLimiter {
  readonly #bytesPerSecond: number;
  readonly #now: Clock;
  /** When the next byte is due, on the clock's scale; undefined before the first piece. */
  #due: number | undefined;

  constructor(bytesPerSecond: number, now: Clock = () => performance.now()) {
    if (!(Number.isSafeInteger(bytesPerSecond) && bytesPerSecond > 0)) {
      throw new RangeError(`a rate must be a whole number of bytes per second above 0, not ${bytesPerSecond}`);
    }
    this.#bytesPerSecond = bytesPerSecond;
    this.#now = now;
  }

  get bytesPerSecond(): number {
    return this.#bytesPerSecond;
  }

  /** The largest piece to hand on after one wait. */
  get sliceBytes(): number {
    return Math.max(1, Math.min(MAX_PIECE_BYTES, Math.floor((this.#bytesPerSecond * PIECE_MS) / 1000)));
  }

  /** Books `bytes` on the schedule and returns how many ms to wait before sending them (0: now). */
  take(bytes: number): number {
    const now = this.#now();
    const due = Math.max(this.#due ?? now, now - CATCH_UP_MS);
    this.#due = due + (bytes * 1000) / this.#bytesPerSecond;
    return Math.max(0, due - now);
  }
}

/** The pieces of `chunk` a limiter hands on one at a time (views, never copies). */
export function* pieces(chunk: Buffer, size: number): Generator<Buffer> {
  if (chunk.length <= size) {
    yield chunk;
    return;
  }
  for (let at = 0; at < chunk.length; at += size) yield chunk.subarray(at, Math.min(at + size, chunk.length));
}

/**
 * Hands `chunk` to `send` whole, or with a limiter in pieces, each once the rate allows it: `wait(ms)`
 * sleeps (false: the request stopped meanwhile), `send(piece)` writes it (false: stop). False when
 * either said stop.
 */
export async function paced(
  chunk: Buffer,
  limiter: RateLimiter | undefined,
  wait: (ms: number) => Promise<boolean>,
  send: (piece: Buffer) => Promise<boolean>,
): Promise<boolean> {
  if (limiter === undefined) return send(chunk);
  for (const piece of pieces(chunk, limiter.sliceBytes)) {
    const delay = limiter.take(piece.length);
    if (delay > 0 && !(await wait(delay))) return false;
    if (!(await send(piece))) return false;
  }
  return true;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * curl's `--limit-rate` value: a whole number of bytes per second, optionally followed by one unit,
 * `B`, `k`/`K`, `m`/`M` or `g`/`G` (1024-based, as curl). `0` is 0, which curl reads as no limit.
 * Throws a RangeError naming the value for anything else (decimals, signs, other units, overflow).
 */
export function parseRate(text: string): number {
  const match = /^(\d+)([bkmg]?)$/i.exec(text);
  const digits = match?.[1];
  const unit = UNITS[(match?.[2] ?? '').toLowerCase()];
  if (digits === undefined || unit === undefined) {
    throw new RangeError(
      `a rate is a whole number of bytes per second with an optional unit (B, k, M or G), not ${JSON.stringify(text)}`,
    );
  }
  const rate = Number(digits) * unit;
  if (!Number.isSafeInteger(rate)) throw new RangeError(`the rate ${JSON.stringify(text)} is too large`);
  return rate;
}
