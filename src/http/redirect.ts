import { UploadError } from '../common/errors.js';
import { withoutPassword } from '../common/messages.js';
import { visible } from '../common/visible.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface RedirectQuestion {
  status: number;
  location: string | undefined;
  /** The hop that got this answer: its URL and method, how many redirects came before it. */
  url: URL;
  method: string;
  hop: number;
  maxRedirects: number;
  /** The request had a body, and whether it can be sent again. */
  hasBody: boolean;
  replayable: boolean;
}

/** Where to go next: the URL, the method, and whether the body goes along (307/308) or is dropped (a GET). */
export interface RedirectStep {
  url: URL;
  method: string;
  keepsBody: boolean;
  /** The next hop is on another origin than this one: credentials stay behind. */
  crossOrigin: boolean;
}

/**
 * The redirect rule, as browsers follow it: undefined when the answer is the final one (not a
 * redirect, no Location, or redirects off), else the next hop. 301/302 after a POST and 303 after
 * anything but HEAD become a GET without a body; 307/308 send the same method and the same bytes.
 * Throws a typed UploadError past `maxRedirects`, for a Location that is not an http(s) URL, and
 * when the body would have to be sent again but its one-shot stream was read.
 */
export function redirectStep(question: RedirectQuestion): RedirectStep | undefined {
  const { status, location, url, method } = question;
  // An empty Location names no target: the answer is final, as curl and undici take it.
  if (!REDIRECTS.has(status) || location === undefined || location === '' || question.maxRedirects === 0)
    return undefined;
  if (question.hop >= question.maxRedirects) {
    throw new UploadError(
      'ERR_TOO_MANY_REDIRECTS',
      `more than ${question.maxRedirects} redirects, the last to ${shown(location)}`,
      { url: url.href },
    );
  }
  // Credentials in a Location are the server's, not the caller's: not sent (a hop's URL has none).
  const { url: next } = withoutCredentials(nextUrl(status, location, url));
  const becomesGet = status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST';
  const keepsBody = question.hasBody && !becomesGet;
  if (keepsBody && !question.replayable) {
    throw new UploadError(
      'ERR_BODY_NOT_REPLAYABLE',
      `the server redirected (${status}) to ${next.href}, but the body holds a stream that was already sent; use files, Blobs or bytes`,
      { url: url.href },
    );
  }
  return { url: next, method: becomesGet ? 'GET' : method, keepsBody, crossOrigin: next.origin !== url.origin };
}

/** The Location resolved against the hop; one that is not an http(s) URL is ERR_INVALID_URL, naming the hop that sent it. */
function nextUrl(status: number, location: string, base: URL): URL {
  let resolved: URL | string = location;
  try {
    resolved = new URL(location, base);
  } catch {
    // reported below, as any URL that is not http(s)
  }
  try {
    return parseHttpUrl(resolved);
  } catch (cause) {
    throw new UploadError(
      'ERR_INVALID_URL',
      `the server redirected (${status}) to "${shown(location)}": ${(cause as Error).message}`,
      { url: base.href, cause },
    );
  }
}

/** A Location as a message quotes it: the server's text, its password masked and its control characters escaped. */
function shown(location: string): string {
  return visible(withoutPassword(location));
}

/** An http: or https: URL, else ERR_INVALID_URL (whose message and `url` show no password). */
export function parseHttpUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Without Node's TypeError as the cause: it says no more than this, and holds the URL whole
    // (`input`), password and signature included, where util.inspect(error) would show it.
    throw new UploadError('ERR_INVALID_URL', `invalid URL ${JSON.stringify(withoutPassword(String(url)))}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UploadError('ERR_INVALID_URL', `only http: and https: URLs can be uploaded to, not ${parsed.protocol}`, {
      url: withoutCredentials(parsed).url.href,
    });
  }
  return parsed;
}

/**
 * The URL without its user name and password, and those as the Basic `Authorization` value node:http
 * would send for them (percent-decoded, UTF-8, as curl and Node do). Every hop's URL is a bare one,
 * so none of what the upload shows (its errors, `response.url`, `retry.onRetry`) carries a password.
 */
export function withoutCredentials(url: URL): { url: URL; authorization: string | undefined } {
  if (url.username === '' && url.password === '') return { url, authorization: undefined };
  const bare = new URL(url.href);
  bare.username = '';
  bare.password = '';
  const credentials = `${percentDecoded(url.username)}:${percentDecoded(url.password)}`;
  return { url: bare, authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` };
}

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray % stays as it is
  }
}
