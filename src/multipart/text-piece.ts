import { CRLF, escapeName, hasNameOnly, NAME_CLOSING, nameOpening, partHead } from './head.js';
import type { Framing, Part, PartRecord } from './wire.js';

/** Where a text part's strings go when it is sent. */
export interface TextSink {
  text(value: string): void;
}

/** What the text parts of one plan share: their framing, and the head of a part with a name alone up to its name. */
export interface TextFrame {
  readonly framing: Framing;
  readonly opening: string;
}

export function textFrame(framing: Framing): TextFrame {
  return { framing, opening: nameOpening(framing) };
}

/**
 * A text part, planned: its record and its one piece in a single object, holding the value and
 * the escaped name (or, for a part with more header lines, its head), never the framed text: a
 * body of 100,000 fields would otherwise keep 100,000 copies of them. The text is put together
 * as it is sent, from strings fixed when it was planned, so what is sent is what was counted.
 */
export class TextPiece<Owner> implements PartRecord<Owner> {
  /** Bytes of the whole part: head, value and CRLF. */
  readonly size: number;

  private constructor(
    readonly owner: Owner,
    readonly label: string | undefined,
    /** The part's value, sent as UTF-8. */
    readonly value: string,
    /** Set for a part with a name alone: `lead` is then its escaped name, between the frame's opening and NAME_CLOSING. */
    private readonly frame: TextFrame | undefined,
    /** The escaped name, or the whole head. */
    private readonly lead: string,
    readonly parent: PartRecord<Owner> | undefined,
    size: number | undefined,
  ) {
    const head =
      frame === undefined
        ? Buffer.byteLength(lead)
        : frame.opening.length + Buffer.byteLength(lead) + NAME_CLOSING.length;
    this.size = size ?? head + Buffer.byteLength(value) + CRLF.length;
  }

  /** The piece of a part whose data is a string. */
  static of<Owner>(part: Part<Owner> & { data: string }, frame: TextFrame): TextPiece<Owner> {
    const label = part.name ?? undefined;
    return hasNameOnly(part)
      ? new TextPiece(part.owner, label, part.data, frame, escapeName(part.name), undefined, undefined)
      : new TextPiece(part.owner, label, part.data, undefined, partHead(frame.framing, part), undefined, undefined);
  }

  /** The piece is its own record: a text part is one piece. */
  get part(): PartRecord<Owner> {
    return this;
  }

  /** What a piece carries: this, whose text is made when it is sent. */
  get data(): TextPiece<Owner> {
    return this;
  }

  /** Hands the part's text to `out`, in order, as strings it already holds. */
  writeTo(out: TextSink): void {
    if (this.frame !== undefined) {
      out.text(this.frame.opening);
      out.text(this.lead);
      out.text(NAME_CLOSING);
    } else out.text(this.lead);
    out.text(this.value);
    out.text(CRLF);
  }

  /** The part's text: head, value, CRLF. */
  text(): string {
    const head = this.frame === undefined ? this.lead : this.frame.opening + this.lead + NAME_CLOSING;
    return head + this.value + CRLF;
  }

  /** The same part inside a part of an outer body (a nested body's), named by `label` in errors. */
  within(parent: PartRecord<Owner>, label: string | undefined): TextPiece<Owner> {
    return new TextPiece(this.owner, label, this.value, this.frame, this.lead, parent, this.size);
  }
}
