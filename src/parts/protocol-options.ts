import { describe, TOKEN } from '../common/validate.js';
import { partsOptionError as fail } from './errors.js';

/** Extra headers of a protocol's options: a record of token names and header-safe string values. */
export function checkHeaders(headers: unknown, option: string): Record<string, string> {
  if (headers === undefined) return {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    throw fail(`${option} must be an object of header names and values, not ${describe(headers)}`);
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) throw fail(`${option}: ${JSON.stringify(name)} is not a header name`);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value))
      throw fail(`${option}: the value of ${name} must be a string without CR, LF or NUL, not ${describe(value)}`);
    checked[name.toLowerCase()] = value;
  }
  return checked;
}

/** `value` as an http(s) URL (a string or a URL), or undefined for anything else. */
export function httpUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string' && !(value instanceof URL)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
}

/** An http(s) URL option. */
export function checkUrlOption(value: unknown, option: string): URL {
  const url = httpUrl(value);
  if (url === undefined) throw fail(`${option} must be an http(s) URL, not ${describe(value)}`);
  return url;
}

/** A URL without its query and fragment (a presigned URL's signature changes; the object it names does not). */
export function describeUrl(value: string | URL): string {
  const url = new URL(value);
  return `${url.origin}${url.pathname}`;
}

/** Query parameters of a signed URL that change from run to run: a signature, an expiry, a credential. */
const VOLATILE = /^(x-goog-.*|x-amz-.*|signature|expires|googleaccessid|key|access_token)$/i;

/**
 * A URL as a session store names a destination: its query kept (it may name the object, as
 * Google's `name=` does), sorted, but for the parameters that sign it or carry credentials, which
 * change from run to run while the destination does not.
 */
export function destinationOf(value: string | URL): string {
  const url = new URL(value);
  const kept = [...url.searchParams]
    .filter(([name]) => !VOLATILE.test(name))
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  const query = new URLSearchParams(kept).toString();
  return `${url.origin}${url.pathname}${query === '' ? '' : `?${query}`}`;
}
