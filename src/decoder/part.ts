import { BodyReader, type PartBody, type PieceSource } from './body.js';
import { DecodeError } from './errors.js';
import type { MediaType } from '../common/media-type.js';
import { extendedParam, readDisposition, textOfBytes, unescapeFormName } from './params.js';
import type { RawHeaders } from './parser.js';

/** One part of a multipart body, as it arrives: its headers, then its body, streamed. */
export interface DecodedPart extends PartBody {
  /** The part's position in the body, from 0. */
  readonly index: number;
  /** The header lines in order, exactly as sent (folded lines unfolded), each value a byte string (one char per byte). */
  readonly rawHeaders: readonly (readonly [name: string, value: string])[];
  /** The headers as a WHATWG Headers (a NUL byte, which Headers cannot hold, reads %00 there). */
  readonly headers: Headers;
  /** The Content-Disposition `name` (the escapes %22, %0D, %0A that browsers write undone), or undefined. */
  readonly name: string | undefined;
  /** The Content-Disposition `filename*` (RFC 8187) if it can be decoded, else `filename`, or undefined. */
  readonly filename: string | undefined;
  /** The Content-Type header, or undefined when the part has none. */
  readonly contentType: string | undefined;
}

export class Part extends BodyReader implements DecodedPart {
  #headers: Headers | undefined;
  #disposition: MediaType | null | undefined;

  constructor(
    readonly index: number,
    readonly rawHeaders: RawHeaders,
    source: PieceSource,
  ) {
    super(source, index);
  }

  get headers(): Headers {
    if (this.#headers) return this.#headers;
    const headers = new Headers();
    for (const [name, value] of this.rawHeaders) {
      try {
        headers.append(name, value.includes('\0') ? value.replace(/\0/g, '%00') : value);
      } catch (cause) {
        throw new DecodeError(
          'ERR_MALFORMED_HEADER',
          `part ${this.index + 1}: this runtime's Headers refuses the header ${JSON.stringify(name)}`,
          { cause },
        );
      }
    }
    return (this.#headers = headers);
  }

  /** The first value of a header, its name compared without case. */
  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    for (const [key, value] of this.rawHeaders)
      if (key.length === lower.length && key.toLowerCase() === lower) return value;
    return undefined;
  }

  get contentType(): string | undefined {
    const value = this.header('content-type');
    return value === undefined ? undefined : textOfBytes(value);
  }

  get name(): string | undefined {
    return this.#param('name');
  }

  get filename(): string | undefined {
    return this.#param('filename');
  }

  #param(key: string): string | undefined {
    if (this.#disposition === undefined) {
      const value = this.header('content-disposition');
      this.#disposition = value === undefined ? null : readDisposition(value);
    }
    if (this.#disposition === null) return undefined;
    const extended = extendedParam(this.#disposition.parameters, key);
    if (extended !== undefined) return extended;
    const plain = this.#disposition.parameters.get(key);
    if (plain === undefined) return undefined;
    return unescapeFormName(textOfBytes(plain));
  }
}
