import { partialDelimiterStart, sameBytes, STOPPED } from './cursor.js';
import { DecodeError } from './errors.js';
import { LineReader, type RawHeaders } from './lines.js';
import type { Limits } from './options.js';
import type { ChunkSource } from './source.js';
import { messageOf } from '../common/messages.js';

/** With no maxBodyBytes, the epilogue after the close delimiter is read (and dropped) up to this many bytes, then the source is let go. */
export const EPILOGUE_LIMIT = 64 * 1024;

/** What a part's body read gives when the decoder has moved past that part (or was stopped) before its end. */
export const SKIPPED = Symbol('skipped');
/** A scan's answer when the bytes in hand do not decide: more must be read. */
const MORE = Symbol('more');

export type { RawHeaders } from './lines.js';

export type BodyRead = Buffer | null | typeof SKIPPED;

export interface PartHead {
  rawHeaders: RawHeaders;
  /** The part's position, from 0; also the serial its body reads are checked against. */
  index: number;
}

type State = 'preamble' | 'delimiter' | 'headers' | 'body' | 'done';

/**
 * A pull parser for one multipart body: it reads from the source only when asked for the next
 * part or the next piece of a part's body. It searches for CRLF--boundary with Buffer.indexOf in
 * the chunks as they came; only a tail that could be the start of a delimiter (or an unfinished
 * header line) is carried over, joined with the start of the next chunk. The body is taken as if
 * it began with CRLF, so that a delimiter at its very start is found like any other.
 * Callers serialise their calls (one at a time).
 */
export class MultipartParser extends LineReader {
  private state: State = 'preamble';
  private partBytes = 0;
  /** The index of the last part whose body reached its delimiter while its reader read it (not while it was skipped). */
  private lastEnded = -1;
  private failure: DecodeError | undefined;
  /** At the blank line that ended a part's header, which may also begin a delimiter (a part with no body, RFC 2046). */
  private atBodyStart = false;
  /** Where the last delimiter line found begins. */
  private delimiterAt = 0;
  /** The needle's first bytes, what Buffer.indexOf searches for (see findDelimiter). */
  private readonly prefix: Buffer;

  constructor(source: ChunkSource, boundary: string, limits: Limits) {
    super(source, limits, Buffer.from(`\r\n--${boundary}`, 'latin1'));
    this.prefix = this.needle.subarray(0, PREFIX_LENGTH);
  }

  /**
   * The next part's headers, after skipping what is left of the current part; null after the close
   * delimiter. At once when its delimiter line and header block are in hand (most parts: no promise
   * to wait on), else a promise.
   */
  nextPart(): PartHead | null | Promise<PartHead | null> {
    if (this.failure) throw this.failure;
    try {
      if (this.state === 'done') return null;
      if (this.state === 'delimiter' && this.partDelimiterInHand()) {
        const head = this.startPart();
        return head instanceof Promise ? this.settle(head) : head;
      }
    } catch (error) {
      if (error === STOPPED) return null;
      throw this.fail(error);
    }
    return this.settle(this.nextPartLater());
  }

  private async nextPartLater(): Promise<PartHead | null> {
    if (this.state === 'body') await this.skipBody();
    const kind = this.state === 'preamble' ? await this.findFirstDelimiter() : await this.delimiterTail(true);
    if (kind !== 'close') return this.startPart();
    await this.finish();
    return null;
  }

  /** A read that waited: a stop ends it with null, a failure is the parser's. */
  private async settle(head: Promise<PartHead | null>): Promise<PartHead | null> {
    try {
      return await head;
    } catch (error) {
      if (error === STOPPED) return null;
      throw this.fail(error);
    }
  }

  /** After a delimiter line that begins a part: its header block, then its body. */
  private startPart(): PartHead | Promise<PartHead> {
    if (++this.parts > this.limits.maxParts)
      throw new DecodeError('ERR_TOO_MANY_PARTS', `more than ${this.limits.maxParts} parts`, {
        offset: this.delimiterAt,
      });
    this.state = 'headers';
    const rawHeaders = this.readHeaders();
    return rawHeaders instanceof Promise ? rawHeaders.then(this.enterBody) : this.enterBody(rawHeaders);
  }

  private readonly enterBody = (rawHeaders: RawHeaders): PartHead => {
    this.state = 'body';
    this.partBytes = 0;
    this.atBodyStart = true;
    return { rawHeaders, index: this.parts - 1 };
  };

  /**
   * The next piece of part `index`'s body (a view of the source's bytes), null at its end, SKIPPED
   * if the parser moved past it (or, `skipping`, once it has reached its end unread). At once when
   * the bytes are in hand (most reads: no promise to wait on), else a promise.
   */
  readBody(index: number, skipping = false): BodyRead | Promise<BodyRead> {
    if (this.failure) throw this.failure;
    if (index === this.lastEnded) return null;
    if (index !== this.parts - 1 || this.stopped || this.state !== 'body') return SKIPPED;
    let read: BodyRead | typeof MORE;
    try {
      read = this.scanBody(index, skipping);
    } catch (error) {
      throw this.fail(error);
    }
    return read === MORE ? this.readBodyLater(index, skipping) : read;
  }

  private async readBodyLater(index: number, skipping: boolean): Promise<BodyRead> {
    try {
      for (;;) {
        if (!(await this.more())) throw this.truncated(`part ${index + 1}'s body`);
        const read = this.scanBody(index, skipping);
        if (read !== MORE) return read;
      }
    } catch (error) {
      if (error === STOPPED) return SKIPPED;
      throw this.fail(error);
    }
  }

  /** A piece of the body from the bytes in hand, or MORE when they do not decide one. */
  private scanBody(index: number, skipping: boolean): Buffer | null | typeof MORE {
    if (this.atBodyStart && !this.leaveHeader()) return MORE;
    const { buf, pos } = this;
    if (pos === buf.length) return MORE;
    const found = findDelimiter(buf, pos, this.needle, this.prefix);
    if (found !== -1) {
      this.pos = found + this.needle.length;
      this.delimiterAt = this.base + found + 2;
      this.state = 'delimiter';
      if (!skipping) this.lastEnded = index;
      return found === pos ? null : this.data(buf.subarray(pos, found), found);
    }
    const keep = partialDelimiterStart(buf, pos, this.needle);
    if (keep === pos) return MORE;
    this.pos = keep;
    return this.data(buf.subarray(pos, keep), keep);
  }

  /**
   * At a part's start, pos is at the CRLF of the blank line that ended its header: a delimiter there
   * means a part with no body section (RFC 2046's `MIME-part-headers [CRLF *OCTET]`), as Go, Python
   * and busboy read it; else that CRLF is skipped and the body begins. False when the bytes in hand
   * do not tell yet.
   */
  private leaveHeader(): boolean {
    const { length } = this.needle;
    const available = Math.min(length, this.buf.length - this.pos);
    if (!sameBytes(this.buf, this.pos, this.needle, 0, available)) this.pos += 2;
    else if (available < length) return false;
    this.atBodyStart = false;
    return true;
  }

  /** Reads what is left of the current part's body, dropping it; awaits only when the bytes in hand run out. */
  private async skipBody(): Promise<void> {
    for (;;) {
      let read = this.readBody(this.parts - 1, true);
      if (read instanceof Promise) read = await read;
      if (read === SKIPPED) return;
    }
  }

  /** Stops: the source is let go (not waited for: a source may be stuck in a read), and every read ends, a waiting one too. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.state = 'done';
    // Closing a source ends a read of it that is waiting (each adapter sees to it).
    this.letGo();
  }

  /** A piece of the body, `end` the index in `buf` after its last byte: counted against maxPartBytes. */
  private data(piece: Buffer, end: number): Buffer {
    this.partBytes += piece.length;
    if (this.partBytes > this.limits.maxPartBytes) {
      // The first byte over the limit, wherever the chunks ended: `pos` may already be past a delimiter.
      const over = this.base + end - (this.partBytes - this.limits.maxPartBytes);
      throw new DecodeError(
        'ERR_PART_TOO_LARGE',
        `part ${this.parts} is larger than ${this.limits.maxPartBytes} bytes`,
        {
          offset: over,
        },
      );
    }
    return piece;
  }

  private fail(error: unknown): DecodeError {
    if (!this.failure) {
      this.failure =
        error instanceof DecodeError
          ? error
          : new DecodeError('ERR_SOURCE_FAILED', `the decoder failed: ${messageOf(error)}`, {
              offset: this.bytesRead,
              cause: error,
            });
      this.state = 'done';
      this.letGo();
    }
    return this.failure;
  }

  /**
   * Skips the preamble: anything up to the first line that is a delimiter, which must begin within
   * maxHeaderBytes of the body's start. That is checked where a delimiter is found as well as where
   * none is, so that the answer is the same however the body is cut into chunks.
   */
  private async findFirstDelimiter(): Promise<'part' | 'close'> {
    for (;;) {
      const found = findDelimiter(this.buf, this.pos, this.needle, this.prefix);
      if (found !== -1) {
        // The delimiter's CRLF is its own (RFC 2046): the preamble is what comes before it.
        if (this.base + found > this.limits.maxHeaderBytes) throw this.preambleTooLong();
        this.pos = found + this.needle.length;
        this.delimiterAt = this.base + found + 2;
        const kind = await this.delimiterTail(false);
        if (kind !== null) return kind;
        continue;
      }
      // A delimiter line after a bare LF is no delimiter (lines end in CRLF): said so if the body never has one.
      if (!this.sawBareLf && this.buf.indexOf(this.needle.subarray(1), this.pos) !== -1) this.sawBareLf = true;
      this.pos = partialDelimiterStart(this.buf, this.pos, this.needle);
      if (this.base + this.pos > this.limits.maxHeaderBytes) throw this.preambleTooLong();
      if (!(await this.more())) {
        const hint = this.sawBareLf ? ' (a delimiter line ends in a bare LF: lines must end in CRLF)' : '';
        throw new DecodeError(
          'ERR_BOUNDARY_NOT_FOUND',
          `the body holds no delimiter line --${this.needle.toString('latin1', 4)}${hint}`,
          { offset: this.bytesRead },
        );
      }
    }
  }

  private preambleTooLong(): DecodeError {
    return new DecodeError(
      'ERR_BOUNDARY_NOT_FOUND',
      `no delimiter line --${this.needle.toString('latin1', 4)} in the first ${this.limits.maxHeaderBytes} bytes (a preamble is read up to maxHeaderBytes)`,
      { offset: this.limits.maxHeaderBytes },
    );
  }

  /**
   * After the close delimiter: the epilogue is read and dropped, then the source let go. With a
   * finite maxBodyBytes it is read to its end, so that the limit counts the whole body whatever the
   * chunking (a read cut short after EPILOGUE_LIMIT would count more or less of it by where the
   * chunks end); with none, what is read of it changes no answer, and reading stops past EPILOGUE_LIMIT.
   */
  private async finish(): Promise<void> {
    this.state = 'done';
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    const most = Number.isFinite(this.limits.maxBodyBytes) ? Infinity : EPILOGUE_LIMIT;
    for (let dropped = 0; dropped <= most;) {
      const chunk = await this.pull();
      if (chunk === null) break;
      dropped += chunk.length;
    }
    this.letGo();
  }
}

/**
 * Node's Buffer.indexOf searches a pattern of up to 6 bytes with memchr on its first byte, several
 * times faster than its Boyer-Moore-Horspool path for longer patterns: the needle's first 6 bytes
 * are searched, and the rest compared where they match. Each candidate costs at most the needle's
 * length, and candidates cannot overlap by more than that, so the search stays linear.
 */
const PREFIX_LENGTH = 6;

/** Where the needle starts in buf from `from`, or -1 (a needle cut by the buffer's end is -1 too). */
function findDelimiter(buf: Buffer, from: number, needle: Buffer, prefix: Buffer): number {
  if (prefix.length === needle.length) return buf.indexOf(needle, from);
  const last = buf.length - needle.length;
  for (let at = buf.indexOf(prefix, from); at !== -1 && at <= last; at = buf.indexOf(prefix, at + 1)) {
    if (sameBytes(buf, at + prefix.length, needle, prefix.length, needle.length - prefix.length)) return at;
  }
  return -1;
}
