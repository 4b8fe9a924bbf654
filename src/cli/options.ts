import { parseArgs } from 'node:util';
import { CliError } from './errors.js';
import { parseFormArg, parseFormString, type FormArg } from './form-args.js';
import { PARTS_SPEC, PARTS_USAGE, partsCommand, type PartsCommand } from './parts.js';

export const USAGE = `Usage:
  multipart-poster [options] URL        upload a multipart form (or a raw file with --data-binary)
  multipart-poster -F ... --dry-run     write the encoded body instead of sending it
  multipart-poster serve [options]      run a receiver that reports what it gets

Sending:
  -F, --form SPEC          a part (repeatable): name=value, name=@file[;type=T][;filename=F],
                           name=@a,b (several files, as a nested multipart/mixed), or name=<file
                           (the file's content as a text field, at most 16 MiB); ;headers='N: V'
                           or ;headers=@FILE adds part headers
      --form-string N=V    a text part whose value is taken as it is (no @, < or ;type=)
      --data-binary @FILE  send FILE itself as the body, not multipart (@- reads standard input)
  -T, --upload-file FILE   PUT FILE itself as the body (a presigned URL); - reads standard input
  -X, --request METHOD     POST (default), PUT, PATCH...
  -H, --header 'N: V'      an extra header (repeatable); 'Expect:' turns Expect off;
                           'Content-Type: T' types a --data-binary body; with -F, multipart/SUBTYPE
                           (related, mixed...) with its parameters picks the body's subtype
      --boundary B         use this multipart boundary
  -L, --location           follow redirects (307/308 re-send the body)
      --max-redirs N       at most N redirects with -L (default 5; -1: no limit, as in curl)
      --expect-continue    always send Expect: 100-continue
      --no-expect-continue never send it (default: for bodies over 1 MiB)
      --timeout SECONDS    give up after this long (fractions allowed, at most 2147483)
      --retry N            retry a transient failure up to N times (a timeout to connect, an
                           unresolved host, HTTP 408 429 500 502 503 504), as curl does;
                           Retry-After is honoured (up to 60 s)
      --retry-delay SECS   wait this long between retries (default: 1 s, doubling; 0: default)
      --retry-max-time SECS start no retry after this long (default 0: no limit)
      --retry-all-errors   with --retry: retry any failure of the connection, and with -f any
                           status of 400 or more
      --retry-connrefused  with --retry: retry a refused connection too
  -x, --proxy URL          send through this HTTP proxy (http://host:port; https URLs go
                           through CONNECT); "" for none. Without it, http_proxy, https_proxy
                           (or HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) are used, except for the
                           hosts in NO_PROXY, which also applies to -x
  -k, --insecure           accept any TLS certificate
      --cacert FILE        trust this CA for TLS
  -o, --output FILE        write the response body (with --dry-run: the request body) to FILE
  -i, --include            print the status line and headers before the body
  -f, --fail               exit 22 on an HTTP status of 400 or more
      --dry-run            encode without sending; headers go to stderr
      --progress           show progress even when stderr is not a terminal
      --no-progress        never show progress
  -v, --verbose            print the request, and a stack trace on errors
  -h, --help               this text
      --version            the version

Receiving (serve):
      --port N             port, 0 to 65535 (default 5000; 0 picks a free one)
      --host H             address to listen on (default 127.0.0.1, loopback only)
      --max-size BYTES     largest body accepted (default 2 GiB)
      --max-parts N        most parts accepted (default 10000)
      --text               answer with a text table instead of JSON

Exit codes: 0 ok, 1 other failure, 2 usage, 5 unknown proxy host, 6 unknown host, 7 cannot connect,
22 HTTP error with --fail, 23 cannot write output, 26 cannot read an input file,
28 timeout, 47 too many redirects, 55 connection reset while sending,
56 failure receiving, 60 untrusted certificate.
${PARTS_USAGE}`;

export interface SendOptions {
  command: 'send';
  url: string | undefined;
  form: FormArg[];
  /** The multipart subtype from `-H 'Content-Type: multipart/...'` (default form-data), and its other parameters. */
  subtype: string | undefined;
  parameters: Array<[string, string]>;
  dataBinary: string | undefined;
  /** The `-H Content-Type` of a --data-binary body (with -F it only confirms multipart/form-data). */
  contentType: string | undefined;
  method: string | undefined;
  /** Extra headers, values as byte strings (each char one byte: UTF-8 from the command line goes out as UTF-8, as curl sends it). */
  headers: Array<[string, string]>;
  boundary: string | undefined;
  location: boolean;
  /** With -L; `--max-redirs -1` (no limit) is Number.MAX_SAFE_INTEGER. */
  maxRedirects: number;
  expectContinue: boolean | undefined;
  timeoutMs: number | undefined;
  /** --retry N (0: none). */
  retry: number;
  /** --retry-delay in ms; undefined (or 0 given) for curl's doubling backoff. */
  retryDelayMs: number | undefined;
  /** --retry-max-time in ms; undefined (or 0 given) for no limit. */
  retryMaxTimeMs: number | undefined;
  retryAllErrors: boolean;
  retryConnrefused: boolean;
  /** -x: the proxy URL as given ('' for none), or undefined to read the environment. */
  proxy: string | undefined;
  insecure: boolean;
  cacert: string | undefined;
  output: string | undefined;
  include: boolean;
  fail: boolean;
  dryRun: boolean;
  progress: boolean | undefined;
  verbose: boolean;
}

export interface ServeOptions {
  command: 'serve';
  port: number;
  host: string;
  maxBodyBytes: number | undefined;
  maxParts: number | undefined;
  text: boolean;
  verbose: boolean;
}

export type Options = SendOptions | ServeOptions | PartsCommand | { command: 'help' } | { command: 'version' };

const SPEC = {
  form: { type: 'string', short: 'F', multiple: true },
  'form-string': { type: 'string', multiple: true },
  'data-binary': { type: 'string' },
  'upload-file': { type: 'string', short: 'T' },
  request: { type: 'string', short: 'X' },
  header: { type: 'string', short: 'H', multiple: true },
  boundary: { type: 'string' },
  location: { type: 'boolean', short: 'L' },
  'max-redirs': { type: 'string' },
  'expect-continue': { type: 'boolean' },
  'no-expect-continue': { type: 'boolean' },
  timeout: { type: 'string' },
  retry: { type: 'string' },
  'retry-delay': { type: 'string' },
  'retry-max-time': { type: 'string' },
  'retry-all-errors': { type: 'boolean' },
  'retry-connrefused': { type: 'boolean' },
  proxy: { type: 'string', short: 'x' },
  insecure: { type: 'boolean', short: 'k' },
  cacert: { type: 'string' },
  output: { type: 'string', short: 'o' },
  include: { type: 'boolean', short: 'i' },
  fail: { type: 'boolean', short: 'f' },
  'dry-run': { type: 'boolean' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
  'max-size': { type: 'string' },
  'max-parts': { type: 'string' },
  text: { type: 'boolean' },
  ...PARTS_SPEC,
} as const;

type OptionName = keyof typeof SPEC;
const LONG_BY_SHORT = new Map(
  Object.entries(SPEC).flatMap(([long, spec]) =>
    'short' in spec ? [[spec.short as string, long as OptionName] as const] : [],
  ),
);

/**
 * As in curl, the argument after an option that takes a value is that value even
 * when it starts with `-` (`--max-redirs -1`, `-H -x...`); node's parseArgs would
 * call it ambiguous. Such pairs are joined into `--name=value`. Short groups such
 * as `-iF` are split first; `-Fvalue` and `--name=value` are left as they are.
 */
export function normalizeArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    let long: OptionName | undefined;
    if (/^--[^=]+$/.test(arg) && arg.slice(2) in SPEC) long = arg.slice(2) as OptionName;
    else if (/^-[A-Za-z]+$/.test(arg)) {
      const letters = [...arg.slice(1)].map((letter) => LONG_BY_SHORT.get(letter));
      const last = letters.at(-1);
      // Only a group of known letters, every one but the last a flag, ending in one that takes a value.
      if (
        last !== undefined &&
        SPEC[last].type === 'string' &&
        letters.slice(0, -1).every((l) => l !== undefined && SPEC[l].type === 'boolean')
      ) {
        for (const letter of arg.slice(1, -1)) out.push(`-${letter}`);
        long = last;
      }
    }
    if (long !== undefined && SPEC[long].type === 'string' && i + 1 < argv.length) {
      out.push(`--${long}=${argv[++i]}`);
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** A whole number in plain decimal digits (no sign, exponent, hex or spaces), from `min` to `max`. */
function wholeNumber(
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

/** The longest --timeout: a Node timer holds at most 2^31-1 ms (about 24.8 days); a longer one fires at once. */
export const MAX_TIMEOUT_SECONDS = 2_147_483;

/** --timeout in milliseconds: a positive decimal number of seconds (`30`, `0.5`), at most MAX_TIMEOUT_SECONDS. */
function timeoutMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = /^(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : NaN;
  if (Number.isNaN(seconds))
    throw new CliError('usage', `--timeout takes a number of seconds, not ${JSON.stringify(value)}`);
  if (!(seconds > 0))
    throw new CliError('usage', `--timeout takes a number of seconds above 0, not ${JSON.stringify(value)}`);
  if (seconds > MAX_TIMEOUT_SECONDS) {
    throw new CliError(
      'usage',
      `--timeout takes at most ${MAX_TIMEOUT_SECONDS} seconds (about 24 days), not ${JSON.stringify(value)}`,
    );
  }
  // Whole milliseconds (1.1 s is 1100 ms, not 1100.0000000000002), and never 0.
  return Math.max(1, Math.round(seconds * 1000));
}

/**
 * -x: an http:// or https:// proxy URL; as in curl, one without a scheme is http://
 * (`-x 127.0.0.1:3128`), and "" means no proxy at all.
 */
export function proxyUrl(value: string | undefined, option = '-x'): string | undefined {
  if (value === undefined || value === '') return value;
  const text = value.includes('://') ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(
      'usage',
      `${option} takes a proxy URL such as http://127.0.0.1:3128, not ${JSON.stringify(value)}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError('usage', `${option} takes an http:// or https:// proxy, not ${url.protocol}//`);
  return url.href;
}

/** The most retries --retry takes (as upload() does). */
export const MAX_RETRIES = 1000;

/** --retry-delay and --retry-max-time in ms: a decimal number of seconds from 0; 0 is "not set", as in curl. */
function retrySeconds(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const seconds = /^(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : NaN;
  if (!(seconds <= MAX_TIMEOUT_SECONDS))
    throw new CliError(
      'usage',
      `${option} takes a number of seconds from 0 to ${MAX_TIMEOUT_SECONDS}, not ${JSON.stringify(value)}`,
    );
  return seconds === 0 ? undefined : Math.max(1, Math.round(seconds * 1000));
}

/** --max-redirs: a whole number, or -1 for no limit as in curl. */
function maxRedirects(value: string | undefined): number {
  if (value === '-1') return Number.MAX_SAFE_INTEGER;
  if (value !== undefined && !/^\d+$/.test(value))
    throw new CliError('usage', `--max-redirs takes a whole number (or -1 for no limit), not ${JSON.stringify(value)}`);
  return wholeNumber(value, '--max-redirs') ?? 5;
}

/** RFC 9110 §5.6.2 `token`: what a method or a header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters a header value cannot hold (RFC 9110 §5.5: HTAB is the only one allowed). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

function method(value: string | undefined): string | undefined {
  if (value !== undefined && !TOKEN.test(value)) {
    throw new CliError(
      'usage',
      `-X takes an HTTP method (letters, digits and !#$%&'*+-.^_\`|~, such as PUT), not ${JSON.stringify(value)}`,
    );
  }
  return value;
}

interface ParsedHeaders {
  headers: Array<[string, string]>;
  contentType: string | undefined;
  /** From -H 'Expect: 100-continue' (true) or -H 'Expect:' (false). */
  expect: boolean | undefined;
}

/** The -H arguments: checked, with the ones the body decides (Content-Type, Expect, Content-Length) taken out. */
function parseHeaders(args: readonly string[]): ParsedHeaders {
  const result: ParsedHeaders = { headers: [], contentType: undefined, expect: undefined };
  for (const header of args) {
    const bad = (why: string) => new CliError('usage', `bad -H ${JSON.stringify(header)}: ${why}`);
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
        if (value !== '' && value.toLowerCase() !== '100-continue')
          throw bad(`only 'Expect: 100-continue' (or 'Expect:' to send none) can be asked for`);
        if (result.expect !== undefined && result.expect !== (value !== ''))
          throw bad('contradicts the -H Expect before it');
        result.expect = value !== '';
        break;
      default:
        // As in curl, 'Name:' with no value removes a header; this tool adds none beyond the ones above.
        if (value !== '') result.headers.push([name, bytes]);
    }
  }
  return result;
}

/**
 * -H Content-Type with -F: a multipart type whose body the encoder writes, `multipart/form-data`
 * or another subtype (`multipart/related; type="application/json"`, as curl users set it). A
 * boundary given there is used as --boundary would be; other parameters go into the header as given.
 */
function formContentType(
  contentType: string,
  boundaryOption: string | undefined,
): { subtype: string; boundary: string | undefined; parameters: Array<[string, string]> } {
  const bad = (why: string) => new CliError('usage', `-H "Content-Type: ${contentType}" with -F: ${why}`);
  const [type = '', ...pieces] = splitParameters(contentType);
  const match = /^multipart\/([!#$%&'*+\-.^_`|~0-9A-Za-z]+)$/i.exec(type.trim());
  if (match === null) {
    throw bad(
      `-F sends a multipart body (multipart/form-data, or multipart/related, mixed...); to send a file as ${type.trim() || 'another type'}, use --data-binary @FILE`,
    );
  }
  let boundary: string | undefined;
  const parameters: Array<[string, string]> = [];
  for (const parameter of pieces) {
    if (parameter.trim() === '') continue;
    const eq = parameter.indexOf('=');
    const key = parameter.slice(0, eq).trim();
    if (eq <= 0) throw bad(`${JSON.stringify(parameter.trim())} is not a key=value parameter`);
    const raw = parameter.slice(eq + 1).trim();
    const value =
      raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    if (key.toLowerCase() !== 'boundary') {
      parameters.push([key, value]);
      continue;
    }
    if (boundary !== undefined) throw bad('the boundary is given twice');
    boundary = value;
  }
  if (boundary !== undefined && boundaryOption !== undefined && boundary !== boundaryOption) {
    throw bad(`its boundary ${JSON.stringify(boundary)} contradicts --boundary ${JSON.stringify(boundaryOption)}`);
  }
  return { subtype: match[1]!.toLowerCase(), boundary, parameters };
}

/** Splits a header value on the `;` that are not inside a quoted string. */
function splitParameters(value: string): string[] {
  const pieces: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (char === '\\' && quoted && i + 1 < value.length) {
      current += char + value[++i];
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === ';' && !quoted) {
      pieces.push(current);
      current = '';
    } else current += char;
  }
  pieces.push(current);
  return pieces;
}

export function parseOptions(argv: readonly string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: normalizeArgs(argv),
      options: SPEC,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    throw new CliError('usage', (error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };

  if (positionals[0] === 'serve') {
    if (positionals.length > 1)
      throw new CliError('usage', `serve takes no arguments besides options, not ${JSON.stringify(positionals[1])}`);
    return {
      command: 'serve',
      port: wholeNumber(values.port, '--port', 0, 65535) ?? 5000,
      host: values.host ?? '127.0.0.1',
      maxBodyBytes: wholeNumber(values['max-size'], '--max-size', 1),
      maxParts: wholeNumber(values['max-parts'], '--max-parts', 1),
      text: values.text ?? false,
      verbose: values.verbose ?? false,
    };
  }
  const parts = partsCommand(values, positionals, () => ({
    headers: parseHeaders(values.header ?? []).headers,
    timeoutMs: timeoutMs(values.timeout),
    retry: wholeNumber(values.retry, '--retry', 0, MAX_RETRIES) ?? 0,
  }));
  if (parts !== undefined) return parts;
  if (positionals.length > 1) throw new CliError('usage', `one URL at a time, not ${positionals.length}`);
  const url = positionals[0];
  // -F and --form-string in the order given: each is one part.
  const form = parsed.tokens.flatMap((token) =>
    token.kind !== 'option' || token.value === undefined
      ? []
      : token.name === 'form'
        ? [parseFormArg(token.value)]
        : token.name === 'form-string'
          ? [parseFormString(token.value)]
          : [],
  );
  // -T FILE is curl's upload: the file itself as the body of a PUT (--data-binary @FILE with -X PUT).
  const uploadFile = values['upload-file'];
  if (uploadFile !== undefined && values['data-binary'] !== undefined)
    throw new CliError('usage', '-T and --data-binary cannot be used together');
  if (uploadFile === '') throw new CliError('usage', '-T takes a file (or - for standard input)');
  const dataBinary = uploadFile === undefined ? values['data-binary'] : `@${uploadFile}`;
  if (dataBinary !== undefined) {
    if (!dataBinary.startsWith('@') || dataBinary.length === 1)
      throw new CliError('usage', '--data-binary takes @FILE (or @- for standard input)');
    if (form.length > 0)
      throw new CliError(
        'usage',
        `${uploadFile === undefined ? '--data-binary' : '-T'} and -F cannot be used together`,
      );
    if (values.boundary !== undefined)
      throw new CliError('usage', '--boundary is for -F (multipart); --data-binary sends the file alone');
  }
  if (form.length === 0 && dataBinary === undefined)
    throw new CliError('usage', 'nothing to send: give at least one -F (or --data-binary @FILE); see --help');
  const dryRun = values['dry-run'] ?? (url === undefined && values.output !== undefined);
  if (url === undefined && !dryRun)
    throw new CliError('usage', 'no URL given (use --dry-run or -o FILE to write the body instead)');
  const { headers, contentType, expect } = parseHeaders(values.header ?? []);
  const multipart =
    contentType !== undefined && dataBinary === undefined ? formContentType(contentType, values.boundary) : undefined;
  const boundary = multipart?.boundary ?? values.boundary;
  if (values['expect-continue'] && values['no-expect-continue'])
    throw new CliError('usage', '--expect-continue and --no-expect-continue contradict each other');
  if ((values['expect-continue'] && expect === false) || (values['no-expect-continue'] && expect === true)) {
    throw new CliError('usage', `-H Expect contradicts --${values['expect-continue'] ? '' : 'no-'}expect-continue`);
  }
  if (values.progress && values['no-progress'])
    throw new CliError('usage', '--progress and --no-progress contradict each other');
  return {
    command: 'send',
    url,
    form,
    subtype: multipart?.subtype,
    parameters: multipart?.parameters ?? [],
    dataBinary: dataBinary?.slice(1),
    contentType: dataBinary === undefined ? undefined : contentType,
    method: method(values.request) ?? (uploadFile === undefined ? undefined : 'PUT'),
    headers,
    boundary,
    location: values.location ?? false,
    maxRedirects: maxRedirects(values['max-redirs']),
    expectContinue: values['expect-continue'] ? true : values['no-expect-continue'] ? false : expect,
    timeoutMs: timeoutMs(values.timeout),
    retry: wholeNumber(values.retry, '--retry', 0, MAX_RETRIES) ?? 0,
    retryDelayMs: retrySeconds(values['retry-delay'], '--retry-delay'),
    retryMaxTimeMs: retrySeconds(values['retry-max-time'], '--retry-max-time'),
    retryAllErrors: values['retry-all-errors'] ?? false,
    retryConnrefused: values['retry-connrefused'] ?? false,
    proxy: proxyUrl(values.proxy),
    insecure: values.insecure ?? false,
    cacert: values.cacert,
    output: values.output,
    include: values.include ?? false,
    fail: values.fail ?? false,
    dryRun,
    progress: values.progress ? true : values['no-progress'] ? false : undefined,
    verbose: values.verbose ?? false,
  };
}
