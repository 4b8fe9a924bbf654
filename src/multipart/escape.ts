import { MultipartError } from '../common/errors.js';
import { describe } from '../common/validate.js';

// WHATWG HTML, "multipart/form-data encoding algorithm": names first have every
// CR, LF and CRLF normalised to CRLF; names and filenames then have LF, CR and
// '"' percent-escaped. Nothing else is touched (non-ASCII goes out as UTF-8).
const NEWLINES = /\r\n|\r|\n/g;
const ESCAPED = /[\n\r"]/g;
const ESCAPES: Record<string, string> = { '\n': '%0A', '\r': '%0D', '"': '%22' };

const NEEDS_ESCAPING = /[\n\r"]/;

// Both are exported: a value that is not a string is refused, as a test of it would turn it into
// text once and the header another time (an object's toString may answer differently each time).
export function escapeFilename(filename: string): string {
  if (typeof filename !== 'string')
    throw new MultipartError('ERR_INVALID_VALUE', `a filename must be a string, not ${describe(filename)}`);
  return NEEDS_ESCAPING.test(filename) ? filename.replace(ESCAPED, (c) => ESCAPES[c]!) : filename;
}

export function escapeName(name: string): string {
  if (typeof name !== 'string')
    throw new MultipartError('ERR_INVALID_NAME', `a field name must be a string, not ${describe(name)}`);
  return NEEDS_ESCAPING.test(name) ? escapeFilename(name.replace(NEWLINES, '\r\n')) : name;
}

// Python's urllib.parse.quote_plus keeps only these bytes; space becomes '+'.
const QUOTE_SAFE = /^[A-Za-z0-9_.\-~]$/;
const QUOTED_BYTES: string[] = Array.from({ length: 256 }, (_, byte) => {
  const char = String.fromCharCode(byte);
  if (byte === 0x20) return '+';
  return QUOTE_SAFE.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
});

/**
 * poster's `encode_and_quote`: UTF-8 encode, then quote as Python 3's `quote_plus`
 * (`"(©) 2008"` → `"%28%C2%A9%29+2008"`). `null` and `undefined` pass through.
 */
export function encodeAndQuote(data: string | Uint8Array): string;
export function encodeAndQuote<T extends null | undefined>(data: T): T;
export function encodeAndQuote(data: string | Uint8Array | null | undefined): string | null | undefined;
export function encodeAndQuote(data: string | Uint8Array | null | undefined): string | null | undefined {
  if (data === null || data === undefined) return data;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let out = '';
  for (const byte of bytes) out += QUOTED_BYTES[byte];
  return out;
}
