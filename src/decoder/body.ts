import { describe } from '../common/validate.js';
import { DecodeError } from './errors.js';
import { DEFAULT_MAX_BUFFERED } from './options.js';
import { SKIPPED } from './parser.js';

/** How much bytes(), text() and json() hold in memory at most. */
export interface ReadAllOptions {
  /** Bytes held at most (default 16 MiB): a larger body is ERR_PART_TOO_LARGE. Infinity lifts the bound. */
  maxBytes?: number;
}

/**
 * A body read once, as it streams: an async iterable of Buffers (views of the source's bytes,
 * pulled only as they are asked for), or through one of the helpers.
 */
export interface PartBody extends AsyncIterable<Buffer> {
  /** True once the body has begun to be read (it can be read once). */
  readonly bodyUsed: boolean;
  /** A web ReadableStream of the body, pulled as it is read; cancelling it leaves the rest to be skipped. */
  stream(): ReadableStream<Uint8Array>;
  /** The whole body in memory. */
  bytes(options?: ReadAllOptions): Promise<Uint8Array>;
  /** The whole body decoded as UTF-8 (a BOM dropped, invalid bytes replaced), as Response.text() does. */
  text(options?: ReadAllOptions): Promise<string>;
  /** The whole body parsed as JSON (UTF-8): ERR_INVALID_JSON when it is not. */
  json(options?: ReadAllOptions): Promise<unknown>;
}

/** Where a body's pieces come from: the decoder (by part index), or a plain source. */
export interface PieceSource {
  /** The next piece of body `index`, null at its end, SKIPPED when it can no longer be read: at once when it is in hand. */
  readPiece(index: number): Buffer | null | typeof SKIPPED | Promise<Buffer | null | typeof SKIPPED>;
}

const utf8 = new TextDecoder();
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

class PieceIterator implements AsyncIterator<Buffer, undefined> {
  constructor(private readonly body: BodyReader) {}

  next(): Promise<IteratorResult<Buffer, undefined>> {
    return this.body.nextPiece();
  }

  async return(): Promise<IteratorResult<Buffer, undefined>> {
    this.body.stopReading();
    return DONE;
  }
}

/**
 * A body over a piece source. `checkLength` sees the running total before each piece is given out
 * and once the body has ended (`ended`): a byte range's length, refused at the first piece that
 * would take it past what it declared, so that no byte past it is ever given to the caller.
 */
export class BodyReader implements PartBody {
  #used = false;
  #finished = false;
  #total = 0;

  constructor(
    private readonly source: PieceSource,
    private readonly sourceIndex: number,
    private readonly checkLength?: (total: number, ended: boolean) => void,
  ) {}

  get bodyUsed(): boolean {
    return this.#used;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.#used) throw new DecodeError('ERR_BODY_USED', 'this body was already read');
    this.#used = true;
    // A class, not an object of closures: one of these is made per part, and the build names every closure it makes.
    return new PieceIterator(this);
  }

  /** @internal */
  stopReading(): void {
    this.#finished = true;
  }

  /** @internal One promise per piece: none more when the piece is in hand. */
  nextPiece(): Promise<IteratorResult<Buffer, undefined>> {
    if (this.#finished) return Promise.resolve(DONE);
    let piece;
    try {
      piece = this.source.readPiece(this.sourceIndex);
      if (!(piece instanceof Promise)) return Promise.resolve(this.#step(piece));
    } catch (error) {
      return Promise.reject(error);
    }
    return piece.then((later) => this.#step(later));
  }

  #step(piece: Buffer | null | typeof SKIPPED): IteratorResult<Buffer, undefined> {
    if (piece === SKIPPED) {
      this.#finished = true;
      throw new DecodeError(
        'ERR_PART_SKIPPED',
        'this part was skipped: the decoder moved on to the next part (or was stopped) before it was read to its end',
      );
    }
    if (piece === null) {
      this.#finished = true;
      this.checkLength?.(this.#total, true);
      return DONE;
    }
    this.#total += piece.length;
    try {
      this.checkLength?.(this.#total, false);
    } catch (error) {
      // Once refused, the source is not read on.
      this.#finished = true;
      throw error;
    }
    return { done: false, value: piece };
  }

  stream(): ReadableStream<Uint8Array> {
    const iterator = this[Symbol.asyncIterator]();
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            const step = await iterator.next();
            if (step.done) controller.close();
            else controller.enqueue(step.value);
          } catch (error) {
            controller.error(error);
          }
        },
        async cancel() {
          await iterator.return?.();
        },
      },
      { highWaterMark: 0 },
    );
  }

  async bytes(options?: ReadAllOptions): Promise<Uint8Array> {
    const maxBytes = checkMaxBytes(options);
    const pieces: Buffer[] = [];
    let total = 0;
    for await (const piece of this) {
      total += piece.length;
      if (total > maxBytes)
        throw new DecodeError(
          'ERR_PART_TOO_LARGE',
          `the body is larger than the ${maxBytes} bytes read into memory at most (maxBytes); stream it instead`,
        );
      pieces.push(piece);
    }
    const whole = pieces.length === 1 ? Buffer.from(pieces[0]!) : Buffer.concat(pieces, total);
    return new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength);
  }

  async text(options?: ReadAllOptions): Promise<string> {
    return utf8.decode(await this.bytes(options));
  }

  async json(options?: ReadAllOptions): Promise<unknown> {
    const text = await this.text(options);
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new DecodeError('ERR_INVALID_JSON', `the body is not JSON: ${(cause as Error).message}`, { cause });
    }
  }
}

function checkMaxBytes(options: ReadAllOptions | undefined): number {
  if (options === undefined) return DEFAULT_MAX_BUFFERED;
  if (typeof options !== 'object' || options === null)
    throw new DecodeError('ERR_INVALID_OPTION', `options must be an object, not ${describe(options)}`);
  for (const key of Object.keys(options))
    if (key !== 'maxBytes')
      throw new DecodeError('ERR_INVALID_OPTION', `unknown option ${JSON.stringify(key)}; known: maxBytes`);
  const { maxBytes } = options;
  if (maxBytes === undefined) return DEFAULT_MAX_BUFFERED;
  if (maxBytes === Infinity || (Number.isSafeInteger(maxBytes) && maxBytes >= 0)) return maxBytes;
  throw new DecodeError(
    'ERR_INVALID_OPTION',
    `maxBytes must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, or Infinity, not ${describe(maxBytes)}`,
  );
}
