import { ByteCursor } from './cursor.js';
import { DecodeError } from './errors.js';
import type { Limits } from './options.js';
import type { ChunkSource } from './source.js';

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const SP = 0x20;
const HT = 0x09;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export type RawHeaders = [name: string, value: string][];

/** A header block as it is read, line after line: where it began, its lines, its bytes. */
interface HeaderBlock {
  start: number;
  pairs: RawHeaders;
  used: number;
  /**
   * The last pair's value and its continuation lines, trimmed, while it is folded: joined once when
   * the pair ends, since re-joining the whole value at each line made unfolding quadratic.
   */
  folded?: string[];
}

/** The folded pair's value, its pieces joined once (empty pieces dropped, as trimming each join did). */
function unfold(block: HeaderBlock): void {
  const { folded } = block;
  if (folded === undefined) return;
  block.pairs[block.pairs.length - 1]![1] = folded.filter((piece) => piece !== '').join(' ');
  block.folded = undefined;
}

/**
 * The lines between parts' bodies: what follows a delimiter's `--boundary` (a part, the close
 * delimiter, transport padding), and a part's header block. Each is read from the bytes in hand
 * without a promise when they are all there, the common case, else awaiting more.
 */
export abstract class LineReader extends ByteCursor {
  /** Parts begun so far (the current one's number, from 1). */
  protected parts = 0;
  /** A delimiter line ending in a bare LF was seen (said so if no delimiter is ever found). */
  protected sawBareLf = false;

  constructor(
    source: ChunkSource,
    protected readonly limits: Limits,
    /** CRLF--boundary. */
    protected readonly needle: Buffer,
  ) {
    super(source, limits.maxBodyBytes, needle.length);
  }

  protected truncated(where: string): DecodeError {
    return new DecodeError('ERR_TRUNCATED', `the body ended inside ${where}, before the close delimiter`, {
      offset: this.bytesRead,
    });
  }

  /**
   * After a part's `--boundary`, the common case read from the bytes in hand: optional spaces or
   * tabs, then CRLF. True (and past it) when that is what is there; false, nothing consumed, for
   * anything else (the close delimiter, bytes not yet read, a malformation): delimiterTail decides.
   */
  protected partDelimiterInHand(): boolean {
    const { buf } = this;
    let at = this.pos;
    while (at < buf.length && (buf[at] === SP || buf[at] === HT) && at - this.pos < this.limits.maxHeaderBytes) at++;
    if (at + 1 >= buf.length || buf[at] !== CR || buf[at + 1] !== LF) return false;
    this.pos = at + 2;
    return true;
  }

  /**
   * After `--boundary`: `--`, optional spaces or tabs, then CRLF or the body's end close the body
   * (what follows is epilogue); optional spaces or tabs then CRLF start a part. Anything else is refused inside the
   * body (the boundary must not occur in a part's data), and is only text in the preamble (null).
   */
  protected async delimiterTail(inBody: boolean): Promise<'part' | 'close' | null> {
    const where = inBody ? `the delimiter after part ${this.parts}` : 'the first delimiter';
    if (this.buf.length - this.pos < 2 && !(await this.ensure(2))) throw this.truncated(where);
    const close = this.buf[this.pos] === DASH && this.buf[this.pos + 1] === DASH;
    if (close) this.pos += 2;
    if (!(await this.skipPadding())) {
      if (close) return 'close';
      throw this.truncated(where);
    }
    const byte = this.buf[this.pos];
    if (byte === CR) {
      if (this.buf.length - this.pos < 2 && !(await this.ensure(2))) throw this.truncated(where);
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

  /** Skips transport padding (spaces and tabs, bounded); false when the body ends first. */
  private async skipPadding(): Promise<boolean> {
    for (let padding = 0; ; padding++) {
      if (this.buf.length === this.pos && !(await this.ensure(1))) return false;
      const byte = this.buf[this.pos];
      if (byte !== SP && byte !== HT) return true;
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
  }

  /** A part's header lines up to the empty line, folded lines unfolded: at once when the block is in hand. */
  protected readHeaders(): RawHeaders | Promise<RawHeaders> {
    const block: HeaderBlock = { start: this.offset(), pairs: [], used: 0 };
    return this.scanHeaderLines(block) ? block.pairs : this.readHeadersLater(block);
  }

  private async readHeadersLater(block: HeaderBlock): Promise<RawHeaders> {
    for (;;) {
      if (block.used + this.buf.length - this.pos > this.limits.maxHeaderBytes) throw this.headerTooLarge(block.start);
      const room = this.limits.maxHeaderBytes - block.used;
      if (!(await this.moreUntil(LF, room))) throw this.truncated(`part ${this.parts}'s header`);
      if (this.scanHeaderLines(block)) return block.pairs;
    }
  }

  /** Takes the whole header lines in hand into `block`: true at the empty line that ends it, false when more bytes are needed. */
  private scanHeaderLines(block: HeaderBlock): boolean {
    const { maxHeaderBytes, maxHeaderPairs } = this.limits;
    const { pairs } = block;
    for (;;) {
      const lf = this.buf.indexOf(LF, this.pos);
      if (lf === -1) return false;
      const lineStart = this.offset();
      block.used += lf + 1 - this.pos;
      if (block.used > maxHeaderBytes) throw this.headerTooLarge(block.start);
      if (lf === this.pos || this.buf[lf - 1] !== CR)
        throw this.malformed('a header line ends in a bare LF', this.base + lf);
      const line = this.buf.toString('latin1', this.pos, lf - 1);
      this.pos = lf + 1;
      if (line === '') {
        // The blank line's CRLF may also begin the next delimiter: readBody() looks there first.
        this.pos -= 2;
        unfold(block);
        return true;
      }
      if (line.includes('\r')) throw this.malformed('a header line holds a bare CR', lineStart + line.indexOf('\r'));
      if (line.charCodeAt(0) === SP || line.charCodeAt(0) === HT) {
        const last = pairs[pairs.length - 1];
        if (!last) throw this.malformed('the first header line starts with a space', lineStart);
        (block.folded ??= [last[1]]).push(line.trim());
        continue;
      }
      unfold(block);
      const colon = line.indexOf(':');
      if (colon <= 0 || !HEADER_NAME.test(line.slice(0, colon)))
        throw this.malformed(`a header line is not "Name: value": ${JSON.stringify(line.slice(0, 60))}`, lineStart);
      if (pairs.length === maxHeaderPairs)
        throw new DecodeError(
          'ERR_TOO_MANY_HEADERS',
          `part ${this.parts} has more than ${maxHeaderPairs} header lines`,
          {
            offset: lineStart,
          },
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
}
