import { DecodeError } from './errors.js';
import type { Limits } from './options.js';
import type { ChunkSource } from './source.js';

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const SP = 0x20;
const HT = 0x09;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Bytes of a new chunk joined to the few left over from the last one, so that joins stay rare and small. */
const JOIN_BYTES = 4096;
/** The epilogue after the close delimiter is read (and dropped) up to this many bytes, then the source is let go. */
export const EPILOGUE_LIMIT = 64 * 1024;

/** What a part's body read gives when the decoder has moved past that part (or was stopped) before its end. */
export const SKIPPED = Symbol('skipped');
/** Thrown inside the parser once it is stopped, to end the read that was waiting. */
const STOPPED = Symbol('stopped');

export type RawHeaders = [name: string, value: string][];

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
export class MultipartParser {
  private buf: Buffer = Buffer.from('\r\n');
  private pos = 0;
  /** The body offset of buf[0] (-2 for the CRLF the body is taken to begin with). */
  private base = -2;
  private pushback: Buffer | null = null;
  private sourceEnded = false;
  private bytesRead = 0;
  private state: State = 'preamble';
  private parts = 0;
  private partBytes = 0;
  /** The index of the last part whose body reached its delimiter while its reader read it (not while it was skipped). */
  private lastEnded = -1;
  private failure: DecodeError | undefined;
  private stopped = false;
  private sawBareLf = false;
  /** At the blank line that ended a part's header, which may also begin a delimiter (a part with no body, RFC 2046). */
  private atBodyStart = false;
  /** Where the last delimiter line found begins. */
  private delimiterAt = 0;
  private readonly needle: Buffer;

  constructor(
    private readonly source: ChunkSource,
    boundary: string,
    private readonly limits: Limits,
  ) {
    this.needle = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  /** Bytes taken from the source so far. */
  get bytesConsumed(): number {
    return this.bytesRead;
  }

  /** The next part's headers, after skipping what is left of the current part; null after the close delimiter. */
  async nextPart(): Promise<PartHead | null> {
    if (this.failure) throw this.failure;
    try {
      if (this.state === 'done') return null;
      if (this.state === 'body') while ((await this.readBody(this.parts - 1, true)) !== SKIPPED);
      const kind = this.state === 'preamble' ? await this.findFirstDelimiter() : await this.delimiterTail(true);
      if (kind === 'close') {
        await this.finish();
        return null;
      }
      if (++this.parts > this.limits.maxParts)
        throw new DecodeError('ERR_TOO_MANY_PARTS', `more than ${this.limits.maxParts} parts`, {
          offset: this.delimiterAt,
        });
      this.state = 'headers';
      const rawHeaders = await this.readHeaders();
      this.state = 'body';
      this.partBytes = 0;
      this.atBodyStart = true;
      return { rawHeaders, index: this.parts - 1 };
    } catch (error) {
      if (error === STOPPED) return null;
      throw this.fail(error);
    }
  }

  /**
   * The next piece of part `index`'s body (a view of the source's bytes), null at its end, SKIPPED
   * if the parser moved past it (or, `skipping`, once it has reached its end unread).
   */
  async readBody(index: number, skipping = false): Promise<Buffer | null | typeof SKIPPED> {
    if (this.failure) throw this.failure;
    if (index === this.lastEnded) return null;
    if (index !== this.parts - 1 || this.stopped || this.state !== 'body') return SKIPPED;
    try {
      for (;;) {
        if (this.atBodyStart && !(await this.leaveHeader())) throw this.truncated(`part ${index + 1}'s body`);
        const { buf, pos } = this;
        if (pos < buf.length) {
          const found = buf.indexOf(this.needle, pos);
          if (found !== -1) {
            this.pos = found + this.needle.length;
            this.delimiterAt = this.base + found + 2;
            this.state = 'delimiter';
            if (!skipping) this.lastEnded = index;
            return found === pos ? null : this.data(buf.subarray(pos, found));
          }
          const keep = partialDelimiterStart(buf, pos, this.needle);
          if (keep > pos) {
            this.pos = keep;
            return this.data(buf.subarray(pos, keep));
          }
        }
        if (!(await this.more())) throw this.truncated(`part ${index + 1}'s body`);
      }
    } catch (error) {
      if (error === STOPPED) return SKIPPED;
      throw this.fail(error);
    }
  }

  /**
   * At a part's start, pos is at the CRLF of the blank line that ended its header: a delimiter there
   * means a part with no body section (RFC 2046's `MIME-part-headers [CRLF *OCTET]`), as Go, Python
   * and busboy read it; else that CRLF is skipped and the body begins. False at the source's end.
   */
  private async leaveHeader(): Promise<boolean> {
    const { length } = this.needle;
    for (;;) {
      const available = Math.min(length, this.buf.length - this.pos);
      if (this.buf.compare(this.needle, 0, available, this.pos, this.pos + available) !== 0) {
        this.pos += 2;
        break;
      }
      if (available === length) break;
      if (!(await this.more())) return false;
    }
    this.atBodyStart = false;
    return true;
  }

  /** Stops: the source is let go (not waited for: a source may be stuck in a read), and every read ends, a waiting one too. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.state = 'done';
    // Closing a source ends a read of it that is waiting (each adapter sees to it).
    void this.source.close();
  }

  private data(piece: Buffer): Buffer {
    this.partBytes += piece.length;
    if (this.partBytes > this.limits.maxPartBytes) {
      throw new DecodeError(
        'ERR_PART_TOO_LARGE',
        `part ${this.parts} is larger than ${this.limits.maxPartBytes} bytes`,
        {
          offset: this.base + this.pos - (this.partBytes - this.limits.maxPartBytes),
        },
      );
    }
    return piece;
  }

  private offset(): number {
    return Math.max(0, this.base + this.pos);
  }

  private truncated(where: string): DecodeError {
    return new DecodeError('ERR_TRUNCATED', `the body ended inside ${where}, before the close delimiter`, {
      offset: this.bytesRead,
    });
  }

  private fail(error: unknown): DecodeError {
    if (!this.failure) {
      this.failure =
        error instanceof DecodeError
          ? error
          : new DecodeError('ERR_SOURCE_FAILED', `the decoder failed: ${String(error)}`, {
              offset: this.bytesRead,
              cause: error,
            });
      this.state = 'done';
      void this.source.close();
    }
    return this.failure;
  }

  /** The next chunk: what was put back first, then the source's. */
  private async pull(): Promise<Buffer | null> {
    if (this.stopped) throw STOPPED;
    if (this.pushback) {
      const chunk = this.pushback;
      this.pushback = null;
      return chunk;
    }
    if (this.sourceEnded) return null;
    let chunk: Buffer | null;
    try {
      chunk = await this.source.read();
    } catch (cause) {
      if (cause instanceof DecodeError)
        throw new DecodeError(cause.code, cause.message, { offset: this.bytesRead, cause: cause.cause });
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new DecodeError('ERR_SOURCE_FAILED', `the source failed: ${message}`, { offset: this.bytesRead, cause });
    }
    if (this.stopped) throw STOPPED;
    if (chunk === null) {
      this.sourceEnded = true;
      return null;
    }
    this.bytesRead += chunk.length;
    if (this.bytesRead > this.limits.maxBodyBytes) {
      throw new DecodeError('ERR_BODY_TOO_LARGE', `the body is larger than ${this.limits.maxBodyBytes} bytes`, {
        offset: this.limits.maxBodyBytes,
      });
    }
    return chunk;
  }

  /** More bytes after pos: the next chunk, joined with what is left of this one when something is; false at the source's end. */
  private async more(): Promise<boolean> {
    const next = await this.pull();
    if (next === null) return false;
    const left = this.buf.length - this.pos;
    if (left === 0) {
      this.base += this.buf.length;
      this.buf = next;
    } else {
      const take = Math.min(next.length, Math.max(JOIN_BYTES, this.needle.length));
      if (take < next.length) this.pushback = next.subarray(take);
      this.base += this.pos;
      this.buf = Buffer.concat([this.buf.subarray(this.pos), next.subarray(0, take)]);
    }
    this.pos = 0;
    return true;
  }

  private async ensure(count: number): Promise<boolean> {
    while (this.buf.length - this.pos < count) if (!(await this.more())) return false;
    return true;
  }

  /** Skips the preamble: anything up to the first line that is a delimiter. */
  private async findFirstDelimiter(): Promise<'part' | 'close'> {
    for (;;) {
      const found = this.buf.indexOf(this.needle, this.pos);
      if (found !== -1) {
        this.pos = found + this.needle.length;
        this.delimiterAt = this.base + found + 2;
        const kind = await this.delimiterTail(false);
        if (kind !== null) return kind;
        continue;
      }
      // A delimiter line after a bare LF is no delimiter (lines end in CRLF): said so if the body never has one.
      if (!this.sawBareLf && this.buf.indexOf(this.needle.subarray(1), this.pos) !== -1) this.sawBareLf = true;
      this.pos = partialDelimiterStart(this.buf, this.pos, this.needle);
      if (this.base + this.pos > this.limits.maxHeaderBytes) {
        throw new DecodeError(
          'ERR_BOUNDARY_NOT_FOUND',
          `no delimiter line --${this.needle.toString('latin1', 4)} in the first ${this.limits.maxHeaderBytes} bytes (a preamble is read up to maxHeaderBytes)`,
          {
            offset: this.limits.maxHeaderBytes,
          },
        );
      }
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

  /**
   * After `--boundary`: `--`, optional spaces or tabs, then CRLF or the body's end close the body
   * (what follows is epilogue); optional spaces or tabs then CRLF start a part. Anything else is refused inside the
   * body (the boundary must not occur in a part's data), and is only text in the preamble (null).
   */
  private async delimiterTail(inBody: boolean): Promise<'part' | 'close' | null> {
    const where = inBody ? `the delimiter after part ${this.parts}` : 'the first delimiter';
    if (!(await this.ensure(2))) throw this.truncated(where);
    const close = this.buf[this.pos] === DASH && this.buf[this.pos + 1] === DASH;
    if (close) this.pos += 2;
    for (let padding = 0; ; padding++) {
      if (!(await this.ensure(1))) {
        if (close) return 'close';
        throw this.truncated(where);
      }
      const byte = this.buf[this.pos];
      if (byte !== SP && byte !== HT) break;
      this.pos++;
      if (padding === this.limits.maxHeaderBytes) {
        throw new DecodeError(
          'ERR_HEADER_TOO_LARGE',
          `the padding after a delimiter is longer than ${this.limits.maxHeaderBytes} bytes`,
          {
            offset: this.offset(),
          },
        );
      }
    }
    const byte = this.buf[this.pos];
    if (byte === CR) {
      if (!(await this.ensure(2))) throw this.truncated(where);
      if (this.buf[this.pos + 1] === LF) {
        this.pos += 2;
        return close ? 'close' : 'part';
      }
    }
    if (byte === LF) this.sawBareLf = true;
    if (!inBody) return null;
    const what = close ? 'the close delimiter' : where;
    throw new DecodeError(
      'ERR_MALFORMED_DELIMITER',
      `${what} is followed by ${JSON.stringify(String.fromCharCode(this.buf[this.pos]!))}, not a line end`,
      {
        offset: this.offset(),
      },
    );
  }

  /** A part's header lines up to the empty line; folded lines are unfolded. */
  private async readHeaders(): Promise<RawHeaders> {
    const { maxHeaderBytes, maxHeaderPairs } = this.limits;
    const start = this.offset();
    const pairs: RawHeaders = [];
    let used = 0;
    for (;;) {
      const lf = this.buf.indexOf(LF, this.pos);
      if (lf === -1) {
        if (used + this.buf.length - this.pos > maxHeaderBytes) throw this.headerTooLarge(start);
        if (!(await this.more())) throw this.truncated(`part ${this.parts}'s header`);
        continue;
      }
      const lineStart = this.offset();
      used += lf + 1 - this.pos;
      if (used > maxHeaderBytes) throw this.headerTooLarge(start);
      if (lf === this.pos || this.buf[lf - 1] !== CR)
        throw this.malformed('a header line ends in a bare LF', this.base + lf);
      const line = this.buf.toString('latin1', this.pos, lf - 1);
      this.pos = lf + 1;
      if (line === '') {
        // The blank line's CRLF may also begin the next delimiter: readBody() looks there first.
        this.pos -= 2;
        return pairs;
      }
      if (line.includes('\r')) throw this.malformed('a header line holds a bare CR', lineStart + line.indexOf('\r'));
      if (line.charCodeAt(0) === SP || line.charCodeAt(0) === HT) {
        const last = pairs[pairs.length - 1];
        if (!last) throw this.malformed('the first header line starts with a space', lineStart);
        last[1] = `${last[1]} ${line.trim()}`.trim();
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0 || !HEADER_NAME.test(line.slice(0, colon)))
        throw this.malformed(`a header line is not "Name: value": ${JSON.stringify(line.slice(0, 60))}`, lineStart);
      if (pairs.length === maxHeaderPairs)
        throw new DecodeError(
          'ERR_TOO_MANY_HEADERS',
          `part ${this.parts} has more than ${maxHeaderPairs} header lines`,
          { offset: lineStart },
        );
      pairs.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
    }
  }

  private headerTooLarge(start: number): DecodeError {
    return new DecodeError(
      'ERR_HEADER_TOO_LARGE',
      `part ${this.parts}'s header is larger than ${this.limits.maxHeaderBytes} bytes`,
      { offset: start + this.limits.maxHeaderBytes },
    );
  }

  private malformed(what: string, offset: number): DecodeError {
    return new DecodeError('ERR_MALFORMED_HEADER', `part ${this.parts}: ${what}`, { offset });
  }

  /** After the close delimiter: the epilogue is read and dropped (up to EPILOGUE_LIMIT), then the source let go. */
  private async finish(): Promise<void> {
    this.state = 'done';
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    for (let dropped = 0; dropped <= EPILOGUE_LIMIT;) {
      const chunk = await this.pull();
      if (chunk === null) break;
      dropped += chunk.length;
    }
    void this.source.close();
  }
}

/** Where the longest tail of buf[pos..] that is a start of the needle begins (buf.length when none is). */
function partialDelimiterStart(buf: Buffer, pos: number, needle: Buffer): number {
  const length = buf.length;
  for (let i = buf.indexOf(CR, Math.max(pos, length - needle.length + 1)); i !== -1; i = buf.indexOf(CR, i + 1)) {
    if (buf.compare(needle, 0, length - i, i, length) === 0) return i;
  }
  return length;
}
