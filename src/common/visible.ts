/**
 * Text for a terminal with every control character shown escaped (`\x1b`, `\x9b`): C0 (U+0000 to
 * U+001F), DEL and C1 (U+0080 to U+009F, which terminals read as ESC sequences too: U+009B is CSI).
 * What a client sent (a part's name, a path, a header line quoted in an error) cannot then move the
 * cursor, change colours or break a table's rows.
 *
 * The bidirectional controls (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069) are
 * escaped too (`\u202e`): they reorder what follows them on the line, so `invoice\u202efdp.exe`
 * would show as `invoiceexe.pdf`. So are U+2028 and U+2029, which some terminals and log viewers
 * take as line ends, splitting a row in two; and the zero-width characters that join nothing
 * (U+200B, U+2060, U+FEFF), which make two names that look alike differ. A backslash is shown
 * doubled, so that an escape seen is always one made here: a name holding the six characters
 * `\u202e` does not look like one holding U+202E.
 */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** C0, DEL, C1, the bidirectional controls, the line separators and the zero-width characters. */
const CONTROL_RANGES =
  '\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200b\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff';
const INVISIBLE = new RegExp(`[\\\\${CONTROL_RANGES}]`, 'g');
const CONTROLS = new RegExp(`[${CONTROL_RANGES}]`, 'g');

/**
 * A message for a terminal, its control characters escaped as `visible` escapes them, backslashes
 * left single: for a line that may quote what a server sent (a status text, a Location) beside text
 * already escaped (JSON strings, `visible`'s own escapes), which a second `visible` would double.
 */
export function visibleLine(text: string): string {
  return text.replace(CONTROLS, (c) => visible(c));
}
