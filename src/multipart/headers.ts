import { MultipartError } from '../common/errors.js';
import { describe, TOKEN } from '../common/validate.js';
import type { HeaderLine } from './wire.js';

/** A part's own headers: an object, a `Headers`, or `[name, value]` pairs. */
export type PartHeadersInit = Readonly<Record<string, string>> | Headers | Iterable<readonly [string, string]>;

/** Control characters a header value cannot hold (RFC 9110 §5.5: HTAB is the only one allowed). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Whether `value` can stand in a header line as given: a string with no CR, LF or other control character. */
export function isHeaderValue(value: unknown): value is string {
  return typeof value === 'string' && !CONTROL.test(value);
}

/** Throws unless `value` can stand in a header line as given (no CR, LF or other control character). */
export function assertHeaderValue(value: string, what: string, paramName?: string): void {
  if (!isHeaderValue(value)) {
    throw new MultipartError(
      'ERR_INVALID_HEADER_VALUE',
      typeof value === 'string'
        ? `${what} must not contain CR, LF or another control character: ${JSON.stringify(value)}`
        : `${what} must be a string, not ${describe(value)}`,
      { paramName },
    );
  }
}

/**
 * The header lines of a part, checked: every name an RFC 9110 token that does not start with
 * `--` (a line starting so would read as a boundary delimiter), every value free of control
 * characters, no name twice (compared without case).
 */
export function checkPartHeaders(init: PartHeadersInit | undefined, paramName: string | undefined): HeaderLine[] {
  if (init === undefined) return [];
  let pairs: Iterable<unknown>;
  if (typeof Headers !== 'undefined' && init instanceof Headers) pairs = init.entries();
  else if (typeof init === 'object' && init !== null && Symbol.iterator in init) pairs = init as Iterable<unknown>;
  else if (typeof init === 'object' && init !== null) pairs = Object.entries(init);
  else
    throw new MultipartError(
      'ERR_INVALID_VALUE',
      `headers must be an object, a Headers or [name, value] pairs, not ${describe(init)}`,
      { paramName },
    );

  const lines: HeaderLine[] = [];
  const seen = new Set<string>();
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new MultipartError('ERR_INVALID_VALUE', `each header must be a [name, value] pair, not ${describe(pair)}`, {
        paramName,
      });
    }
    const [name, value] = pair as [unknown, unknown];
    if (typeof name !== 'string' || !TOKEN.test(name) || name.startsWith('--')) {
      throw new MultipartError(
        'ERR_INVALID_HEADER_NAME',
        `header name ${describe(name)} is not an RFC 9110 token (letters, digits and !#$%&'*+-.^_\`|~) or starts with "--"`,
        { paramName },
      );
    }
    if (typeof value !== 'string')
      throw new MultipartError('ERR_INVALID_HEADER_VALUE', `header ${name} must be a string, not ${describe(value)}`, {
        paramName,
      });
    assertHeaderValue(value, `header ${name}`, paramName);
    const key = name.toLowerCase();
    if (seen.has(key))
      throw new MultipartError(
        'ERR_HEADER_CONFLICT',
        `header ${name} is given twice; a part carries each header once`,
        { paramName },
      );
    seen.add(key);
    lines.push([name, value]);
  }
  return lines;
}

/**
 * Throws unless `name: value` can be written as one header line: a token name that does not start
 * with `--`, a value without control characters. What the wire checks as it writes a part's head,
 * whatever was done to the part since it was made (a param's fields are readonly only to TypeScript).
 */
export function assertHeaderLine(name: unknown, value: unknown, paramName: string | undefined): void {
  if (typeof name !== 'string' || !TOKEN.test(name) || name.startsWith('--')) {
    throw new MultipartError('ERR_INVALID_HEADER_NAME', `header name ${describe(name)} is not an RFC 9110 token`, {
      paramName,
    });
  }
  assertHeaderValue(value as string, `header ${name}`, paramName);
}

/** Takes the header `name` (any case) out of `lines`; returns its value, if it was there. */
export function takeHeader(lines: HeaderLine[], name: string): string | undefined {
  const index = lines.findIndex(([key]) => key.toLowerCase() === name);
  if (index < 0) return undefined;
  const [[, value]] = lines.splice(index, 1) as [HeaderLine];
  return value;
}
