import { foreignOption, optionLabel, optionsOf, readArgs, type Args, type ArgValues } from './args.js';
import { decodeArg } from './decode-answer.js';
import { CliError } from './errors.js';
import { partsCommand, type PartsCommand } from './parts.js';
import { parseFormArg, parseFormString, type FormArg } from './form-grammar.js';
import { formContentType, parseHeaders } from './headers.js';
import { proxyUrl } from './proxy.js';
import type { RetryArgs } from './retry.js';
import {
  limitRate,
  maxRedirects,
  MAX_RETRIES,
  method,
  retrySeconds,
  targetUrl,
  timeoutMs,
  wholeNumber,
} from './values.js';

export interface SendOptions extends RetryArgs {
  command: 'send';
  url: string | undefined;
  form: FormArg[];
  /** The multipart subtype from `-H 'Content-Type: multipart/...'` (default form-data), and its other parameters. */
  subtype: string | undefined;
  parameters: Array<[string, string]>;
  /** --data-binary @FILE or -T FILE: the file (or `-`, standard input) sent as the body itself. */
  dataBinary: string | undefined;
  /** The `-H Content-Type` of a --data-binary body (with -F it only confirms multipart/form-data). */
  contentType: string | undefined;
  /** Extra headers, values as byte strings (each char one byte: UTF-8 from the command line goes out as UTF-8, as curl sends it). */
  headers: Array<[string, string]>;
  boundary: string | undefined;
  location: boolean;
  /** With -L; `--max-redirs -1` (no limit) is Number.MAX_SAFE_INTEGER. */
  maxRedirects: number;
  expectContinue: boolean | undefined;
  timeoutMs: number | undefined;
  /** -x: the proxy URL as given ('' for none), or undefined to read the environment. */
  proxy: string | undefined;
  insecure: boolean;
  cacert: string | undefined;
  /** --http1.1 (false, the default), --http2 ('auto') or --http2-prior-knowledge (true): the last one given. */
  http2: boolean | 'auto';
  /** --limit-rate in bytes per second; undefined: no limit. */
  maxRate: number | undefined;
  /** With --decode, `output` is the folder the answer's parts go to. */
  output: string | undefined;
  /** --decode: the answer's multipart body split into its parts. */
  decode: boolean;
  include: boolean;
  /** --fail-with-body: as --fail, but the answer's body is written. */
  failWithBody: boolean;
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

export function parseOptions(argv: readonly string[]): Options {
  const args = readArgs(argv);
  if (args.values.help) return { command: 'help' };
  if (args.values.version) return { command: 'version' };
  const { values } = args;
  if (args.positionals[0] === 'serve') return serveOptions(args);
  // Both uploads read these two (serve refuses them as not its own).
  if (values.progress && values['no-progress']) throw contradict('--progress', '--no-progress');
  const parts = partsCommand(values, args.positionals, () => ({
    headers: parseHeaders(values.header ?? []).headers,
    timeoutMs: timeoutMs(values.timeout),
    retry: wholeNumber(values.retry, '--retry', 0, MAX_RETRIES) ?? 0,
    proxy: proxyUrl(values.proxy),
    http2: httpVersion(args.tokens),
    maxRate: limitRate(values['limit-rate']),
  }));
  if (parts !== undefined) return parts;
  const foreign = foreignOption(values, 'send');
  if (foreign !== undefined)
    throw new CliError('usage', `${optionLabel(foreign)} is an option of serve, not of an upload`);
  return sendOptions(args);
}

function serveOptions({ values, positionals }: Args): ServeOptions {
  if (positionals.length > 1)
    throw new CliError('usage', `serve takes no arguments besides options, not ${JSON.stringify(positionals[1])}`);
  const foreign = foreignOption(values, 'serve');
  if (foreign !== undefined)
    throw new CliError(
      'usage',
      `${optionLabel(foreign)} is not an option of serve (it takes ${optionsOf('serve').map(optionLabel).join(', ')})`,
    );
  return {
    command: 'serve',
    port: wholeNumber(values.port, '--port', 0, 65535) ?? 5000,
    host: listenHost(values.host),
    maxBodyBytes: wholeNumber(values['max-size'], '--max-size', 1),
    maxParts: wholeNumber(values['max-parts'], '--max-parts', 1),
    text: values.text ?? false,
    verbose: values.verbose ?? false,
  };
}

/**
 * --host: an address or name. An empty one is refused: Node's listen() takes '' as no host at all,
 * every interface, the opposite of what a blank was likely meant to say.
 */
function listenHost(host: string | undefined): string {
  if (host === undefined) return '127.0.0.1';
  if (host.trim() === '')
    throw new CliError(
      'usage',
      `--host takes an address to listen on, such as 127.0.0.1 or ::, not ${JSON.stringify(host)}`,
    );
  return host;
}

/** -F and --form-string in the order given: each is one part. */
function formParts(tokens: Args['tokens']): FormArg[] {
  return tokens.flatMap((token) => {
    if (token.kind !== 'option' || token.value === undefined) return [];
    if (token.name === 'form') return [parseFormArg(token.value)];
    if (token.name === 'form-string') return [parseFormString(token.value)];
    return [];
  });
}

/** --data-binary @FILE, or -T FILE (curl's upload: the file itself as the body of a PUT). */
function rawBodyFile(values: ArgValues, form: readonly FormArg[]): string | undefined {
  const uploadFile = values['upload-file'];
  if (uploadFile !== undefined && values['data-binary'] !== undefined)
    throw new CliError('usage', '-T and --data-binary cannot be used together');
  if (uploadFile === '') throw new CliError('usage', '-T takes a file (or - for standard input)');
  const dataBinary = uploadFile === undefined ? values['data-binary'] : `@${uploadFile}`;
  if (dataBinary === undefined) return undefined;
  if (!dataBinary.startsWith('@') || dataBinary.length === 1)
    throw new CliError('usage', '--data-binary takes @FILE (or @- for standard input)');
  if (form.length > 0)
    throw new CliError('usage', `${uploadFile === undefined ? '--data-binary' : '-T'} and -F cannot be used together`);
  if (values.boundary !== undefined)
    throw new CliError('usage', '--boundary is for -F (multipart); --data-binary sends the file alone');
  return dataBinary.slice(1);
}

const contradict = (a: string, b: string) => new CliError('usage', `${a} and ${b} contradict each other`);

/** Expect: 100-continue from --expect-continue, --no-expect-continue or -H Expect (`expect`), which must agree. */
function expectContinue(values: ArgValues, expect: boolean | undefined): boolean | undefined {
  if (values['expect-continue'] && values['no-expect-continue'])
    throw contradict('--expect-continue', '--no-expect-continue');
  if ((values['expect-continue'] && expect === false) || (values['no-expect-continue'] && expect === true))
    throw new CliError('usage', `-H Expect contradicts --${values['expect-continue'] ? '' : 'no-'}expect-continue`);
  return values['expect-continue'] ? true : values['no-expect-continue'] ? false : expect;
}

function sendOptions({ values, positionals, tokens }: Args): SendOptions {
  if (positionals.length > 1) throw new CliError('usage', `one URL at a time, not ${positionals.length}`);
  const form = formParts(tokens);
  const dataBinary = rawBodyFile(values, form);
  if (form.length === 0 && dataBinary === undefined)
    throw new CliError('usage', 'nothing to send: give at least one -F (or --data-binary @FILE, or -T FILE)');
  const dryRun = values['dry-run'] ?? (positionals[0] === undefined && values.output !== undefined);
  if (positionals[0] === undefined && !dryRun)
    throw new CliError('usage', 'no URL given (use --dry-run or -o FILE to write the body instead)');
  const { headers, contentType, expect } = parseHeaders(values.header ?? []);
  const multipart =
    contentType !== undefined && dataBinary === undefined ? formContentType(contentType, values.boundary) : undefined;
  return {
    command: 'send',
    url: targetUrl(positionals[0]),
    form,
    subtype: multipart?.subtype,
    parameters: multipart?.parameters ?? [],
    dataBinary,
    contentType: dataBinary === undefined ? undefined : contentType,
    method: method(values.request) ?? (values['upload-file'] === undefined ? undefined : 'PUT'),
    headers,
    boundary: multipart?.boundary ?? values.boundary,
    expectContinue: expectContinue(values, expect),
    dryRun,
    decode: decodeArg(values, dryRun),
    ...connectionArgs(values),
    http2: httpVersion(tokens),
    maxRate: limitRate(values['limit-rate']),
    ...retryArgs(values),
    ...outputArgs(values),
  };
}

const HTTP_VERSIONS: Record<string, boolean | 'auto'> = {
  'http1.1': false,
  http2: 'auto',
  'http2-prior-knowledge': true,
};

/** --http1.1, --http2, --http2-prior-knowledge: as in curl, the last one given wins. */
function httpVersion(tokens: Args['tokens']): boolean | 'auto' {
  let version: boolean | 'auto' = false;
  for (const token of tokens)
    if (token.kind === 'option' && token.name in HTTP_VERSIONS) version = HTTP_VERSIONS[token.name]!;
  return version;
}

function connectionArgs(values: ArgValues) {
  return {
    location: values.location ?? false,
    maxRedirects: maxRedirects(values['max-redirs']),
    timeoutMs: timeoutMs(values.timeout),
    proxy: proxyUrl(values.proxy),
    insecure: values.insecure ?? false,
    cacert: values.cacert,
  };
}

function outputArgs(values: ArgValues) {
  if (values.output === '') throw new CliError('usage', '-o takes a file (or - for standard output)');
  return {
    output: values.output,
    include: values.include ?? false,
    failWithBody: values['fail-with-body'] ?? false,
    progress: values.progress ? true : values['no-progress'] ? false : undefined,
    verbose: values.verbose ?? false,
  };
}

function retryArgs(values: ArgValues): Omit<RetryArgs, 'method'> {
  return {
    retry: wholeNumber(values.retry, '--retry', 0, MAX_RETRIES) ?? 0,
    retryDelayMs: retrySeconds(values['retry-delay'], '--retry-delay'),
    retryMaxTimeMs: retrySeconds(values['retry-max-time'], '--retry-max-time'),
    retryAllErrors: values['retry-all-errors'] ?? false,
    retryConnrefused: values['retry-connrefused'] ?? false,
    // --fail-with-body fails as --fail does; it only keeps the body.
    fail: (values.fail ?? false) || (values['fail-with-body'] ?? false),
  };
}
