/**
 * Header values as the decoder reads them: byte strings (one char per byte, as a WHATWG Headers
 * holds them). Media types use RFC 9110's quoted-string (backslash escapes). Content-Disposition
 * is read as browsers (and this library) write it, whatever the subtype: a quoted value runs to
 * the next quote, `"` is sent as %22 (WHATWG HTML); a value that only reads well with backslash
 * escapes (Go's and Python's `\"`) is read with them.
 */
export type QuoteStyle = 'rfc' | 'whatwg';

export interface ParsedHeaderValue {
  /** The value before the first `;`, trimmed and lowercased (`multipart/form-data`, `attachment`). */
  type: string;
  /** Parameters by lowercased name; the first of a repeated name wins. */
  params: Map<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const isSpace = (c: string | undefined) => c === ' ' || c === '\t';

/**
 * Parses `type; name=value; name="quoted"`. The preferred quote style is tried first; a value that
 * only reads well the other way (a browser's `name="a\"`, Go's `name="a\"b"`) is read that way;
 * a value that reads well neither way is read leniently, parameter by parameter.
 */
export function parseHeaderValue(value: string, preferred: QuoteStyle): ParsedHeaderValue {
  const other: QuoteStyle = preferred === 'rfc' ? 'whatwg' : 'rfc';
  return strictParse(value, preferred) ?? strictParse(value, other) ?? lenientParse(value);
}

function strictParse(value: string, style: QuoteStyle): ParsedHeaderValue | undefined {
  const semicolon = value.indexOf(';');
  const type = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const params = new Map<string, string>();
  let i = semicolon === -1 ? value.length : semicolon;
  while (i < value.length) {
    i++; // the ';'
    while (isSpace(value[i])) i++;
    if (i === value.length) break; // a trailing ';'
    const nameStart = i;
    while (i < value.length && TOKEN_CHAR.test(value[i]!)) i++;
    const name = value.slice(nameStart, i).toLowerCase();
    while (isSpace(value[i])) i++;
    if (name === '' || value[i] !== '=') return undefined;
    i++;
    while (isSpace(value[i])) i++;
    let parsed: string;
    if (value[i] === '"') {
      const quoted = readQuoted(value, i + 1, style);
      if (quoted === undefined) return undefined;
      [parsed, i] = quoted;
    } else {
      const start = i;
      while (i < value.length && value[i] !== ';' && !isSpace(value[i])) i++;
      parsed = value.slice(start, i);
    }
    while (isSpace(value[i])) i++;
    if (i < value.length && value[i] !== ';') return undefined;
    if (!params.has(name)) params.set(name, parsed);
  }
  return { type, params };
}

/** The content of a quoted string starting after its opening quote, and the index after its closing one. */
function readQuoted(value: string, start: number, style: QuoteStyle): [string, number] | undefined {
  if (style === 'whatwg') {
    const end = value.indexOf('"', start);
    return end === -1 ? undefined : [value.slice(start, end), end + 1];
  }
  let out = '';
  for (let i = start; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"') return [out, i + 1];
    if (c === '\\') {
      if (i + 1 === value.length) return undefined;
      out += value[++i];
    } else out += c;
  }
  return undefined;
}

function lenientParse(value: string): ParsedHeaderValue {
  const semicolon = value.indexOf(';');
  const params = new Map<string, string>();
  for (const [, key, quoted, bare] of value.matchAll(/;\s*([^\s;=]+)\s*=\s*(?:"([^"]*)"?|([^\s;]*))/g)) {
    const name = key!.toLowerCase();
    if (!params.has(name)) params.set(name, quoted ?? bare!);
  }
  return { type: (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase(), params };
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A byte string's text: UTF-8 when its bytes are valid UTF-8 (what browsers send), else each byte as its Latin-1 character. */
export function textOfBytes(bytes: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(bytes)) return bytes;
  try {
    return fatalUtf8.decode(Buffer.from(bytes, 'latin1'));
  } catch {
    return bytes;
  }
}

/** WHATWG's form-data escapes undone: %0A, %0D and %22 (what a browser writes for LF, CR and `"` in a name or filename). */
export function unescapeFormName(name: string): string {
  return name.includes('%') ? name.replace(/%0A/gi, '\n').replace(/%0D/gi, '\r').replace(/%22/g, '"') : name;
}

/**
 * An RFC 8187/2231 extended parameter (`filename*=UTF-8''na%C3%AFve.txt`, or continued as
 * `filename*0*=...; filename*1*=...`), decoded; undefined when absent or in a charset other than
 * UTF-8, ISO-8859-1 or US-ASCII.
 */
export function extendedParam(params: Map<string, string>, name: string): string | undefined {
  const direct = params.get(`${name}*`);
  if (direct !== undefined) return decodeExtValue(direct, true);
  if (!params.has(`${name}*0*`) && !params.has(`${name}*0`)) return undefined;
  let joined = '';
  let encoded = params.has(`${name}*0*`);
  for (let k = 0; k < 1000; k++) {
    const pct = params.get(`${name}*${k}*`);
    const plain = params.get(`${name}*${k}`);
    if (pct === undefined && plain === undefined) break;
    // Plain segments are literal: escape their `%` so the whole decodes in one pass.
    joined += pct ?? plain!.replace(/%/g, '%25');
    if (k === 0) encoded = pct !== undefined;
  }
  return decodeExtValue(joined, encoded);
}

function decodeExtValue(value: string, withCharset: boolean): string | undefined {
  let charset = 'us-ascii';
  let text = value;
  if (withCharset) {
    const match = /^([^']*)'[^']*'(.*)$/s.exec(value);
    if (!match) return undefined;
    charset = match[1]!.toLowerCase();
    text = match[2]!;
  }
  const bytes = Buffer.from(text.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  if (charset === 'utf-8' || charset === 'utf8') {
    try {
      return fatalUtf8.decode(bytes);
    } catch {
      return undefined;
    }
  }
  if (charset === 'iso-8859-1' || charset === 'latin1' || charset === 'us-ascii') return bytes.toString('latin1');
  return undefined;
}
