import { readQuotedString } from '../common/media-type.js';

/**
 * The double-quoted string whose opening `"` is at `start`, read by the library's one quoted-string
 * reader under RFC 9110's rule (`\` escapes the next character), or undefined when its closing quote
 * is missing. The reader keeps what it read when the quote is left open; reading the text once more
 * with a `"` appended tells the two apart (an open string then ends on that added quote).
 */
export function quotedString(text: string, start: number): { value: string; end: number } | undefined {
  const read = readQuotedString(text, start, 'rfc9110');
  return readQuotedString(`${text}"`, start, 'rfc9110').end > text.length ? undefined : read;
}
