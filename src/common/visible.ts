/**
 * Text for a terminal with every control character shown escaped (`\x1b`, `\x9b`): C0 (U+0000 to
 * U+001F), DEL and C1 (U+0080 to U+009F, which terminals read as ESC sequences too: U+009B is CSI).
 * What a client sent (a part's name, a path, a header line quoted in an error) cannot then move the
 * cursor, change colours or break a table's rows.
 */
export function visible(text: string): string {
  return text.replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;
