import { parseRate } from '../index.js';
import { CliError } from './errors.js';
import { withoutPassword } from '../common/messages.js';

/** The longest --timeout: a Node timer holds at most 2^31-1 ms (about 24.8 days); a longer one fires at once. */
export const MAX_TIMEOUT_SECONDS = 2_147_483;

/** The most retries --retry takes (as upload() does). */
export const MAX_RETRIES = 1000;

const SECONDS = /^(\d+(\.\d*)?|\.\d+)$/;

/** A whole number in plain decimal digits (no sign, exponent, hex or spaces), from `min` to `max`. */
export function wholeNumber(
  value: string | undefined,
  option: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const number = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(Number.isSafeInteger(number) && number >= min && number <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? (min === 0 ? '' : ` of at least ${min}`) : ` from ${min} to ${max}`;
    throw new CliError('usage', `${option} takes a whole number${range}, not ${JSON.stringify(value)}`);
  }
  return number;
}

/** Seconds as whole milliseconds (1.1 s is 1100 ms, not 1100.0000000000002), never 0. */
const toMs = (seconds: number) => Math.max(1, Math.round(seconds * 1000));

/** --timeout in milliseconds: a positive decimal number of seconds (`30`, `0.5`), at most MAX_TIMEOUT_SECONDS. */
export function timeoutMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = SECONDS.test(value) ? Number(value) : NaN;
  const bad = (why: string) => new CliError('usage', `--timeout takes ${why}, not ${JSON.stringify(value)}`);
  if (Number.isNaN(seconds)) throw bad('a number of seconds');
  if (!(seconds > 0)) throw bad('a number of seconds above 0');
  if (seconds > MAX_TIMEOUT_SECONDS) throw bad(`at most ${MAX_TIMEOUT_SECONDS} seconds (about 24 days)`);
  return toMs(seconds);
}

/** --retry-delay and --retry-max-time in ms: a decimal number of seconds from 0; 0 is "not set", as in curl. */
export function retrySeconds(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const seconds = SECONDS.test(value) ? Number(value) : NaN;
  if (!(seconds <= MAX_TIMEOUT_SECONDS))
    throw new CliError(
      'usage',
      `${option} takes a number of seconds from 0 to ${MAX_TIMEOUT_SECONDS}, not ${JSON.stringify(value)}`,
    );
  return seconds === 0 ? undefined : toMs(seconds);
}

/** --max-redirs: a whole number, or -1 for no limit as in curl. */
export function maxRedirects(value: string | undefined): number {
  if (value === '-1') return Number.MAX_SAFE_INTEGER;
  if (value !== undefined && !/^\d+$/.test(value))
    throw new CliError('usage', `--max-redirs takes a whole number (or -1 for no limit), not ${JSON.stringify(value)}`);
  return wholeNumber(value, '--max-redirs') ?? 5;
}

/** RFC 9110 §5.6.2 `token`: what a method or a header name may be made of. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** -X: an RFC 9110 token. */
export function method(value: string | undefined): string | undefined {
  if (value !== undefined && !TOKEN.test(value)) {
    throw new CliError(
      'usage',
      `-X takes an HTTP method (letters, digits and !#$%&'*+-.^_\`|~, such as PUT), not ${JSON.stringify(value)}`,
    );
  }
  if (value?.toUpperCase() === 'CONNECT')
    throw new CliError('usage', '-X CONNECT opens a tunnel; it carries no upload');
  return value;
}

/**
 * The URL to send to, checked before anything is read or sent, with curl's exit codes: a URL that
 * cannot be parsed is 3, a scheme other than http and https is 1. curl takes a URL without a scheme
 * for http://; here it is refused with that guess as a hint, since an upload sent in the clear to
 * a host the caller meant to reach over TLS cannot be taken back.
 */
export function targetUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol === 'http:' || url?.protocol === 'https:') return value;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) {
    if (url === undefined) throw new CliError('url', `${JSON.stringify(withoutPassword(value))} is not a valid URL`);
    throw new CliError('unsupported', `${url.protocol.slice(0, -1)}:// is not supported: only http:// and https://`);
  }
  // `//host/path` (a scheme-relative URL) is a host after its slashes, not a path.
  const guess = `http://${value.replace(/^[/\\]{2}/, '')}`;
  // No guess for a value that starts as a scheme does (`http:/host`, `http:\\host`): it is not a host name.
  const hint =
    URL.canParse(guess) && !/^\s*[a-z][a-z\d+.-]*:[/\\]/i.test(value)
      ? `; did you mean ${withoutPassword(guess)}?`
      : '';
  const shown = JSON.stringify(withoutPassword(value));
  throw new CliError('url', `${shown} is not a URL: it has no scheme (http:// or https://)${hint}`);
}

/** --limit-rate in bytes per second (curl's units); 0, as in curl, and no option mean no limit. */
export function limitRate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  let rate: number;
  try {
    rate = parseRate(value);
  } catch {
    throw new CliError(
      'usage',
      `--limit-rate takes bytes per second, a whole number with an optional k, M or G, not ${JSON.stringify(value)}`,
    );
  }
  return rate === 0 ? undefined : rate;
}
