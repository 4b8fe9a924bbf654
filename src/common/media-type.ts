/**
 * The one reader of `type/subtype; key=value` header values (Content-Type, Content-Disposition),
 * shared by the encoder, the decoder, the receiver and the CLI.
 *
 * Two quoting rules exist in the wild, and which one applies is a property of the header:
 * - RFC 9110 §5.6.4 (Content-Type): inside a quoted string, `\` escapes the next character.
 * - WHATWG HTML's multipart/form-data encoding (Content-Disposition of form-data): `"` is sent as
 *   `%22` and `\` is an ordinary character, so a quoted value runs to the next `"`. Reading `\` as
 *   an escape there misreads a legal name that ends in a backslash.
 */
export type QuotingRule = 'rfc9110' | 'whatwg';

export interface MediaType {
  /** The value before the first `;`, trimmed and lowercased: `multipart/form-data`, `form-data`. */
  essence: string;
  /** Parameters by lowercased name; the first of a repeated name wins. */
  parameters: Map<string, string>;
}

const WHITESPACE = /[ \t]/;

/**
 * Reads a quoted string whose opening `"` is at `start`; returns its value and the index after the
 * closing quote (or the end of `text` for an unterminated one, which keeps what was read; `closed`
 * says which).
 */
export function readQuotedString(
  text: string,
  start: number,
  rule: QuotingRule,
): { value: string; end: number; closed: boolean } {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const char = text[i]!;
    if (char === '"') return { value, end: i + 1, closed: true };
    if (char === '\\' && rule === 'rfc9110' && i + 1 < text.length) {
      value += text[i + 1];
      i += 2;
      continue;
    }
    value += char;
    i++;
  }
  return { value, end: i, closed: false };
}

/** Splits `value` on the `;` that are outside quoted strings, as `rule` quotes them; pieces are untrimmed. */
export function splitParameters(value: string, rule: QuotingRule): string[] {
  const pieces: string[] = [];
  let from = 0;
  let i = 0;
  while (i < value.length) {
    const char = value[i]!;
    if (char === '"') i = readQuotedString(value, i, rule).end;
    else if (char === ';') {
      pieces.push(value.slice(from, i));
      from = ++i;
    } else i++;
  }
  pieces.push(value.slice(from));
  return pieces;
}

/** Parses a header value into its essence and parameters. Malformed parameters (no `=`) are ignored. */
export function parseMediaType(value: string, rule: QuotingRule = 'rfc9110'): MediaType {
  const [head = '', ...rest] = splitParameters(value, rule);
  const parameters = new Map<string, string>();
  for (const piece of rest) {
    const equals = piece.indexOf('=');
    if (equals < 0) continue;
    const key = piece.slice(0, equals).trim().toLowerCase();
    if (key === '' || parameters.has(key)) continue;
    let at = equals + 1;
    while (at < piece.length && WHITESPACE.test(piece[at]!)) at++;
    const raw = piece.slice(at);
    const parsed = raw.startsWith('"') ? readQuotedString(raw, 0, rule).value : raw.trimEnd();
    parameters.set(key, parsed);
  }
  return { essence: head.trim().toLowerCase(), parameters };
}

/**
 * True when `value` reads cleanly with `rule`: every quoted parameter value is closed and followed
 * by nothing but whitespace. A value written with the other rule usually does not (a browser's
 * `name="a\\"` read with RFC 9110 escapes, Go's `name="a\\"b"` read as WHATWG).
 */
export function readsCleanly(value: string, rule: QuotingRule): boolean {
  for (const piece of splitParameters(value, rule).slice(1)) {
    let at = piece.indexOf('=') + 1;
    if (at === 0) continue;
    while (at < piece.length && WHITESPACE.test(piece[at]!)) at++;
    if (piece[at] !== '"') continue;
    const { end, closed } = readQuotedString(piece, at, rule);
    if (!closed || piece.slice(end).trim() !== '') return false;
  }
  return true;
}

/** The `boundary` parameter of a multipart Content-Type, or undefined. */
export function boundaryOf(contentType: string): string | undefined {
  return parseMediaType(contentType).parameters.get('boundary');
}
