import { readQuotedString } from '../common/media-type.js';

/**
 * The double-quoted string whose opening `"` is at `start`, read by the library's one quoted-string
 * reader under RFC 9110's rule (`\` escapes the next character), or undefined when its closing quote
 * is missing.
 */
export function quotedString(text: string, start: number): { value: string; end: number } | undefined {
  const { value, end, closed } = readQuotedString(text, start, 'rfc9110');
  return closed ? { value, end } : undefined;
}
