import { escapeFilename, escapeName } from './escape.js';
import { assertHeaderLine, assertHeaderValue } from './headers.js';
import type { Framing, Part } from './wire.js';

/** What a part's head is written from. */
export type HeadFields = Pick<Part<unknown>, 'name' | 'filename' | 'contentType' | 'headers'>;

export const CRLF = '\r\n';

/** The header block of a part: from its delimiter line to the blank line that ends its headers. */
export function partHead(framing: Pick<Framing, 'boundary' | 'disposition'>, part: HeadFields): string {
  let head = `--${framing.boundary}\r\n`;
  if (part.name != null) {
    head += `Content-Disposition: ${framing.disposition}; name="${escapeName(part.name)}"`;
    if (part.filename !== undefined) head += `; filename="${escapeFilename(part.filename)}"`;
    head += '\r\n';
  }
  // Checked again as written: a param's fields can be assigned after it checked them (in JavaScript).
  const label = part.name ?? undefined;
  if (part.contentType !== undefined) {
    assertHeaderValue(part.contentType, 'the content type', label);
    head += `Content-Type: ${part.contentType}\r\n`;
  }
  if (part.headers !== undefined)
    for (const [name, value] of part.headers) {
      assertHeaderLine(name, value, label);
      head += `${name}: ${value}\r\n`;
    }
  return `${head}\r\n`;
}

/**
 * Whether the head is a delimiter line and a name alone, as for most form fields: it is then
 * `nameOpening(framing)`, the escaped name and NAME_CLOSING, what partHead writes for it.
 */
export function hasNameOnly(part: HeadFields): part is HeadFields & { name: string } {
  return (
    part.name != null &&
    part.filename === undefined &&
    part.contentType === undefined &&
    (part.headers === undefined || part.headers.length === 0)
  );
}

/** The head of a part with a name alone, up to the name: `--B\r\nContent-Disposition: D; name="`. */
export function nameOpening(framing: Pick<Framing, 'boundary' | 'disposition'>): string {
  return `--${framing.boundary}\r\nContent-Disposition: ${framing.disposition}; name="`;
}

/** The head of a part with a name alone, after the name. */
export const NAME_CLOSING = '"\r\n\r\n';

export { escapeName };
