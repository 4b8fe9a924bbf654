import { parseMediaType, readsCleanly, type MediaType } from '../common/media-type.js';

/**
 * A Content-Disposition as the decoder reads it, whatever the subtype: with WHATWG's quoting (a
 * quoted value runs to the next `"`, which browsers and this library send as %22), unless the value
 * only reads cleanly with RFC 9110's backslash escapes (Go's and Python's `\"`).
 */
export function readDisposition(value: string): MediaType {
  return parseMediaType(value, readsCleanly(value, 'whatwg') || !readsCleanly(value, 'rfc9110') ? 'whatwg' : 'rfc9110');
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A byte string's text: UTF-8 when its bytes are valid UTF-8 (what browsers send), else each byte as its Latin-1 character. */
export function textOfBytes(bytes: string): string {
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
  const bytes = Buffer.from(
    text.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  );
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
