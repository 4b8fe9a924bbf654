import type { DecodeOptions, Limits } from './options.js';
import { boundaryFor, decodeStart, type DecodeStart } from './start.js';
import { MultipartParser, type BodyRead, type PartHead } from './parser.js';
import type { PieceSource } from './body.js';
import { Part, type DecodedPart } from './part.js';
import type { ChunkSource, DecodeSource } from './source.js';
import { LoopTurns } from '../common/turns.js';

/** Parts as they arrive; leaving a loop early (return()) stops reading and lets the source go. */
export interface MultipartDecoder extends AsyncIterableIterator<DecodedPart> {
  /** The boundary the body is split on. */
  readonly boundary: string;
  /** The media type, lowercased (`multipart/form-data`), or undefined when only a boundary was given. */
  readonly mediaType: string | undefined;
  next(): Promise<IteratorResult<DecodedPart, undefined>>;
  return(): Promise<IteratorResult<DecodedPart, undefined>>;
}

/** multipartDecode() with the parser loaded (the public one, in deferred.ts, loads it on its first call). */
export function multipartDecode(source: DecodeSource, options?: DecodeOptions): MultipartDecoder {
  return decoderOver(decodeStart(source, options));
}

/** The decoder over a checked start: the public multipartDecode() makes one once this module is loaded. */
export function decoderOver({ chunks, boundary, mediaType, limits }: DecodeStart): MultipartDecoder {
  return new Decoder(chunks, boundary, mediaType, limits);
}

/** The decoder over chunks pulled by the library itself (the receiver's counted request), limits already checked. */
export function decodeChunks(chunks: ChunkSource, contentType: string, limits: Limits): MultipartDecoder {
  const { boundary, mediaType } = boundaryFor(contentType, undefined);
  return new Decoder(chunks, boundary, mediaType, limits);
}

class Decoder implements MultipartDecoder, PieceSource {
  private readonly parser: MultipartParser;
  /**
   * Every read of the parser waits for the one before (a part's stream may pull while the loop asks
   * for the next part); a read asked for when none is running starts at once.
   */
  private last: Promise<unknown> = Promise.resolve();
  private running = 0;
  private readonly settled = () => void this.running--;
  private partsSinceClock = 0;
  private readonly turns = new LoopTurns(LOOP_SLICE_MS);

  constructor(
    source: ChunkSource,
    readonly boundary: string,
    readonly mediaType: string | undefined,
    limits: Limits,
  ) {
    this.parser = new MultipartParser(source, boundary, limits);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<DecodedPart, undefined>> {
    try {
      const result = this.exclusive(this.nextPart, 0);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  readPiece(index: number): BodyRead | Promise<BodyRead> {
    return this.exclusive(this.readBody, index);
  }

  async return(): Promise<IteratorResult<DecodedPart, undefined>> {
    // At once, not behind a pending read: stopping the source is what ends a read that waits on it.
    this.parser.stop();
    return DONE;
  }

  private readonly nextPart = (): PartResult | Promise<PartResult> => {
    // Parts in hand are decoded without waiting on the source, in one turn of the event loop however
    // many there are: every few parts, the clock says whether the loop is due a turn.
    if (++this.partsSinceClock === PARTS_PER_CLOCK) {
      this.partsSinceClock = 0;
      if (this.turns.due) return this.turns.turn().then(() => this.partAfter(this.parser.nextPart()));
    }
    return this.partAfter(this.parser.nextPart());
  };

  private partAfter(head: PartHead | null | Promise<PartHead | null>): PartResult | Promise<PartResult> {
    return head instanceof Promise ? head.then(this.partOf) : this.partOf(head);
  }

  private readonly partOf = (head: PartHead | null): PartResult =>
    head === null ? DONE : { done: false, value: new Part(head.index, head.rawHeaders, this) };

  private readonly readBody = (index: number): BodyRead | Promise<BodyRead> => this.parser.readBody(index);

  /**
   * Runs `operation(argument)` after the reads before it, at once when none is running (no closure
   * per call on that path: the build names each closure it makes): a result in hand is returned as
   * is, and a throw is thrown.
   */
  private exclusive<A, T>(operation: (argument: A) => T | Promise<T>, argument: A): T | Promise<T> {
    if (this.running > 0) return this.track(this.last.then(() => operation(argument)));
    const result = operation(argument);
    return result instanceof Promise ? this.track(result) : result;
  }

  private track<T>(run: Promise<T>): Promise<T> {
    this.running++;
    this.last = run.then(this.settled, this.settled);
    return run;
  }
}

type PartResult = IteratorResult<DecodedPart, undefined>;
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** The longest stretch the decoder holds the event loop while it splits parts already read. */
const LOOP_SLICE_MS = 2;
/**
 * Parts between two looks at the clock: few enough that a consumer's work on them (a batch's
 * Responses, ~90 µs a part) cannot stretch a slice much past LOOP_SLICE_MS.
 */
const PARTS_PER_CLOCK = 8;
