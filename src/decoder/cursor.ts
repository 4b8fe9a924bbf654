import { DecodeError } from './errors.js';
import type { ChunkSource } from './source.js';
import { messageOf } from '../common/messages.js';

/** Bytes of a new chunk joined to the few left over from the last one, so that joins stay rare and small. */
const JOIN_BYTES = 4096;
const CR = 0x0d;

/** Thrown inside a cursor once it is stopped, to end the read that was waiting. */
export const STOPPED = Symbol('stopped');

/**
 * The bytes of a body as the parser walks them: the current chunk (`buf`, read up to `pos`), pulled
 * from the source only when more are needed. What is left of a chunk when more are needed (a
 * possible start of a delimiter, an unfinished line) is joined with the start of the next one; the
 * rest of that one is put back. The body is taken as if it began with CRLF (`base` -2), so that a
 * delimiter at its very start is found like any other.
 */
export class ByteCursor {
  protected buf: Buffer = Buffer.from('\r\n');
  protected pos = 0;
  /** The body offset of buf[0]. */
  protected base = -2;
  protected bytesRead = 0;
  protected stopped = false;
  private pushback: Buffer | null = null;
  private sourceEnded = false;

  constructor(
    protected readonly source: ChunkSource,
    private readonly maxBodyBytes: number,
    /** Bytes of the next chunk a join takes at least (a delimiter's length). */
    private readonly minJoin: number,
  ) {}

  /** Bytes taken from the source so far. */
  get bytesConsumed(): number {
    return this.bytesRead;
  }

  protected offset(): number {
    return Math.max(0, this.base + this.pos);
  }

  /**
   * Lets the source go without waiting for it (a source may be stuck in a read). Its close() never
   * throws nor rejects, whatever the caller's cleanup does (see ChunkSource).
   */
  protected letGo(): void {
    void this.source.close();
  }

  /** The next chunk: what was put back first, then the source's. */
  protected async pull(): Promise<Buffer | null> {
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
      const message = messageOf(cause);
      throw new DecodeError('ERR_SOURCE_FAILED', `the source failed: ${message}`, { offset: this.bytesRead, cause });
    }
    if (this.stopped) throw STOPPED;
    if (chunk === null) {
      this.sourceEnded = true;
      return null;
    }
    this.bytesRead += chunk.length;
    if (this.bytesRead > this.maxBodyBytes) {
      throw new DecodeError('ERR_BODY_TOO_LARGE', `the body is larger than ${this.maxBodyBytes} bytes`, {
        offset: this.maxBodyBytes,
      });
    }
    return chunk;
  }

  /** More bytes after pos: the next chunk, joined with what is left of this one when something is; false at the source's end. */
  protected async more(): Promise<boolean> {
    const next = await this.pull();
    if (next === null) return false;
    const left = this.buf.length - this.pos;
    if (left === 0) {
      this.base += this.buf.length;
      this.buf = next;
    } else {
      const take = Math.min(next.length, Math.max(JOIN_BYTES, this.minJoin));
      if (take < next.length) this.pushback = next.subarray(take);
      this.base += this.pos;
      this.buf = Buffer.concat([this.buf.subarray(this.pos), next.subarray(0, take)]);
    }
    this.pos = 0;
    return true;
  }

  /**
   * Like more(), for a line that may come in many small chunks: chunks without `byte` are gathered
   * into one growing buffer (its room doubled when full) until a chunk has it, `limit` bytes are in
   * hand or the source ends. Joining at every chunk copied the unfinished line each time, which made
   * a long line in small chunks quadratic; this copies each byte about twice.
   */
  protected async moreUntil(byte: number, limit: number): Promise<boolean> {
    let held = this.buf.subarray(this.pos);
    let room: Buffer | null = null;
    const keep = (bytes: Buffer): void => {
      const length = held.length + bytes.length;
      if (room === null || length > room.length) {
        room = Buffer.allocUnsafe(Math.max(length, 2 * held.length, JOIN_BYTES));
        held.copy(room);
      }
      bytes.copy(room, held.length);
      held = room.subarray(0, length);
    };
    let pulled = false;
    for (;;) {
      const next = await this.pull();
      if (next === null) break;
      pulled = true;
      if (held.length === 0) {
        held = next;
        if (next.indexOf(byte) !== -1 || next.length > limit) break;
        continue;
      }
      const at = next.indexOf(byte);
      if (at === -1 && held.length + next.length <= limit) {
        keep(next);
        continue;
      }
      const wanted = at === -1 ? limit - held.length + 1 : Math.max(at + 1, JOIN_BYTES, this.minJoin);
      const take = Math.min(next.length, wanted);
      if (take < next.length) this.pushback = next.subarray(take);
      keep(next.subarray(0, take));
      break;
    }
    if (!pulled) return false;
    this.base += this.pos;
    this.buf = held;
    this.pos = 0;
    return true;
  }

  protected async ensure(count: number): Promise<boolean> {
    while (this.buf.length - this.pos < count) if (!(await this.more())) return false;
    return true;
  }
}

/** Where the longest tail of buf[pos..] that is a start of the needle begins (buf.length when none is). */
export function partialDelimiterStart(buf: Buffer, pos: number, needle: Buffer): number {
  const length = buf.length;
  for (let i = buf.indexOf(CR, Math.max(pos, length - needle.length + 1)); i !== -1; i = buf.indexOf(CR, i + 1)) {
    if (sameBytes(buf, i, needle, 0, length - i)) return i;
  }
  return length;
}

/**
 * Whether buf holds needle[from, from + count) at `at`. A loop rather than Buffer.compare, whose
 * argument checks allocate on every call: this runs a few times per part.
 */
export function sameBytes(buf: Buffer, at: number, needle: Buffer, from: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (buf[at + i] !== needle[from + i]) return false;
  return true;
}
