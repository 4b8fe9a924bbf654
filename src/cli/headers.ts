import { splitParameters } from '../common/media-type.js';
import { CliError } from './errors.js';
import { quotedString } from './quoting.js';
import { TOKEN } from './values.js';

/** Control characters a header value cannot hold (RFC 9110 §5.5: HTAB is the only one allowed). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

export interface HeaderArgs {
  /** Extra headers, values as byte strings (each char one byte: UTF-8 from the command line goes out as UTF-8, as curl sends it). */
  headers: Array<[string, string]>;
  contentType: string | undefined;
  /** From -H 'Expect: 100-continue' (true) or -H 'Expect:' (false). */
  expect: boolean | undefined;
}

/** The -H arguments: checked, with the ones the body decides (Content-Type, Expect, Content-Length) taken out. */
export function parseHeaders(args: readonly string[]): HeaderArgs {
  const result: HeaderArgs = { headers: [], contentType: undefined, expect: undefined };
  for (const header of args) {
    const bad = (why: string) => new CliError('usage', `bad -H ${JSON.stringify(header)}: ${why}`);
    const { name, value } = splitHeader(header, bad);
    // The bytes of the value as the command line gave them (UTF-8), one char per byte, as Node writes header strings.
    const bytes = Buffer.from(value, 'utf8').toString('latin1');
    switch (name.toLowerCase()) {
      case 'content-type':
        if (result.contentType !== undefined) throw bad('Content-Type is given twice');
        if (value === '') throw bad('the body needs a Content-Type; it cannot be removed');
        result.contentType = bytes;
        break;
      case 'content-length':
      case 'transfer-encoding':
        throw bad(`${name} is set from the body and cannot be changed`);
      case 'expect':
        result.expect = expectation(value, result.expect, bad);
        break;
      case 'host':
      case 'connection':
        // Node's HTTP client sends both on every HTTP/1.1 request: refused rather than silently kept.
        if (value === '') throw bad(`${name} cannot be removed: Node's HTTP client always sends it`);
        result.headers.push([name, bytes]);
        break;
      default:
        // As in curl, 'Name:' with no value removes a header; this tool adds none beyond the ones above.
        if (value !== '') result.headers.push([name, bytes]);
    }
  }
  return result;
}

function splitHeader(header: string, bad: (why: string) => CliError): { name: string; value: string } {
  const colon = header.indexOf(':');
  if (colon <= 0) throw bad(`expected 'Name: value'`);
  const name = header.slice(0, colon);
  if (!TOKEN.test(name))
    throw bad(
      `${JSON.stringify(name)} is not a header name (letters, digits and !#$%&'*+-.^_\`|~, nothing else, not even a space)`,
    );
  const value = header.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  if (/[\r\n]/.test(value)) throw bad('a header value cannot hold a line break');
  if (CONTROL.test(value)) throw bad('a header value cannot hold a control character');
  return { name, value };
}

function expectation(value: string, before: boolean | undefined, bad: (why: string) => CliError): boolean {
  if (value !== '' && value.toLowerCase() !== '100-continue')
    throw bad(`only 'Expect: 100-continue' (or 'Expect:' to send none) can be asked for`);
  if (before !== undefined && before !== (value !== '')) throw bad('contradicts the -H Expect before it');
  return value !== '';
}

export interface MultipartType {
  subtype: string;
  boundary: string | undefined;
  parameters: Array<[string, string]>;
}

/**
 * -H Content-Type with -F: a multipart type whose body the encoder writes, `multipart/form-data`
 * or another subtype (`multipart/related; type="application/json"`, as curl users set it). A
 * boundary given there is used as --boundary would be; other parameters go into the header as given.
 * Parameters are read as RFC 9110 quotes them (a Content-Type): `\` escapes inside quotes.
 */
export function formContentType(contentType: string, boundaryOption: string | undefined): MultipartType {
  const bad = (why: string) => new CliError('usage', `-H "Content-Type: ${contentType}" with -F: ${why}`);
  const [type = '', ...pieces] = splitParameters(contentType, 'rfc9110');
  const match = /^multipart\/([!#$%&'*+\-.^_`|~0-9A-Za-z]+)$/i.exec(type.trim());
  if (match === null) {
    throw bad(
      `-F sends a multipart body (multipart/form-data, or multipart/related, mixed...); to send a file as ${type.trim() || 'another type'}, use --data-binary @FILE`,
    );
  }
  let boundary: string | undefined;
  const parameters: Array<[string, string]> = [];
  for (const piece of pieces) {
    if (piece.trim() === '') continue;
    const [key, value] = parameter(piece, bad);
    if (key.toLowerCase() !== 'boundary') parameters.push([key, value]);
    else if (boundary !== undefined) throw bad('the boundary is given twice');
    else boundary = value;
  }
  if (boundary !== undefined && boundaryOption !== undefined && boundary !== boundaryOption) {
    throw bad(`its boundary ${JSON.stringify(boundary)} contradicts --boundary ${JSON.stringify(boundaryOption)}`);
  }
  return { subtype: match[1]!.toLowerCase(), boundary, parameters };
}

function parameter(piece: string, bad: (why: string) => CliError): [string, string] {
  const eq = piece.indexOf('=');
  if (eq <= 0) throw bad(`${JSON.stringify(piece.trim())} is not a key=value parameter`);
  const key = piece.slice(0, eq).trim();
  const raw = piece.slice(eq + 1).trim();
  if (!raw.startsWith('"')) return [key, raw];
  const quoted = quotedString(raw, 0);
  if (quoted === undefined) throw bad(`the quoted value of ${key} has no closing quote`);
  if (quoted.end !== raw.length) throw bad(`text follows the quoted value of ${key}`);
  return [key, quoted.value];
}
