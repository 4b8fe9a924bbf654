import { parseArgs } from 'node:util';
import { CliError } from './errors.js';
import { parseFormArg, type FormArg } from './form-args.js';

export const USAGE = `Usage:
  multipart-poster [options] URL        upload a multipart form (or a raw file with --data-binary)
  multipart-poster -F ... --dry-run     write the encoded body instead of sending it
  multipart-poster serve [options]      run a receiver that reports what it gets

Sending:
  -F, --form SPEC          a part: name=value, name=@file[;type=T][;filename=F], name=<file (repeatable)
      --data-binary @FILE  send FILE itself as the body, not multipart (a PUT to a presigned URL)
  -X, --request METHOD     POST (default), PUT, PATCH...
  -H, --header 'N: V'      an extra header (repeatable); 'Expect:' turns Expect off
      --boundary B         use this multipart boundary
  -L, --location           follow redirects (307/308 re-send the body)
      --max-redirs N       at most N redirects with -L (default 5)
      --expect-continue    always send Expect: 100-continue
      --no-expect-continue never send it (default: for bodies over 1 MiB)
      --timeout SECONDS    give up after this long
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
      --port N             port (default 5000; 0 picks a free one)
      --host H             address to listen on (default 127.0.0.1, loopback only)
      --max-size BYTES     largest body accepted (default 2 GiB)
      --max-parts N        most parts accepted (default 10000)
      --text               answer with a text table instead of JSON

Exit codes: 0 ok, 1 other failure, 2 usage, 6 unknown host, 7 cannot connect,
22 HTTP error with --fail, 23 cannot write output, 26 cannot read an input file,
28 timeout, 47 too many redirects, 55 connection reset while sending,
56 failure receiving, 60 untrusted certificate.`;

export interface SendOptions {
  command: 'send';
  url: string | undefined;
  form: FormArg[];
  dataBinary: string | undefined;
  method: string | undefined;
  headers: Array<[string, string]>;
  boundary: string | undefined;
  location: boolean;
  maxRedirects: number;
  expectContinue: boolean | undefined;
  timeoutMs: number | undefined;
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

export type Options = SendOptions | ServeOptions | { command: 'help' } | { command: 'version' };

const SPEC = {
  form: { type: 'string', short: 'F', multiple: true },
  'data-binary': { type: 'string' },
  request: { type: 'string', short: 'X' },
  header: { type: 'string', short: 'H', multiple: true },
  boundary: { type: 'string' },
  location: { type: 'boolean', short: 'L' },
  'max-redirs': { type: 'string' },
  'expect-continue': { type: 'boolean' },
  'no-expect-continue': { type: 'boolean' },
  timeout: { type: 'string' },
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
} as const;

function wholeNumber(value: string | undefined, option: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < min) throw new CliError('usage', `${option} takes a whole number, not ${JSON.stringify(value)}`);
  return number;
}

export function parseOptions(argv: readonly string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: SPEC, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError('usage', (error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };

  if (positionals[0] === 'serve') {
    if (positionals.length > 1) throw new CliError('usage', `serve takes no arguments besides options, not ${JSON.stringify(positionals[1])}`);
    return {
      command: 'serve',
      port: wholeNumber(values.port, '--port') ?? 5000,
      host: values.host ?? '127.0.0.1',
      maxBodyBytes: wholeNumber(values['max-size'], '--max-size', 1),
      maxParts: wholeNumber(values['max-parts'], '--max-parts', 1),
      text: values.text ?? false,
      verbose: values.verbose ?? false,
    };
  }
  if (positionals.length > 1) throw new CliError('usage', `one URL at a time, not ${positionals.length}`);
  const url = positionals[0];
  const form = (values.form ?? []).map(parseFormArg);
  const dataBinary = values['data-binary'];
  if (dataBinary !== undefined) {
    if (!dataBinary.startsWith('@') || dataBinary.length === 1) throw new CliError('usage', '--data-binary takes @FILE');
    if (form.length > 0) throw new CliError('usage', '--data-binary and -F cannot be used together');
  }
  if (form.length === 0 && dataBinary === undefined) throw new CliError('usage', 'nothing to send: give at least one -F (or --data-binary @FILE); see --help');
  const dryRun = values['dry-run'] ?? (url === undefined && values.output !== undefined);
  if (url === undefined && !dryRun) throw new CliError('usage', 'no URL given (use --dry-run or -o FILE to write the body instead)');
  const headers = (values.header ?? []).map((header): [string, string] => {
    const colon = header.indexOf(':');
    if (colon <= 0) throw new CliError('usage', `bad -H ${JSON.stringify(header)}: expected 'Name: value'`);
    const value = header.slice(colon + 1).trim();
    if (/[\r\n]/.test(value)) throw new CliError('usage', `bad -H ${JSON.stringify(header)}: a header value cannot hold a line break`);
    return [header.slice(0, colon).trim(), value];
  });
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0 && Number.isFinite(timeout))) throw new CliError('usage', `--timeout takes a number of seconds, not ${JSON.stringify(values.timeout)}`);
  if (values['expect-continue'] && values['no-expect-continue']) throw new CliError('usage', '--expect-continue and --no-expect-continue contradict each other');
  if (values.progress && values['no-progress']) throw new CliError('usage', '--progress and --no-progress contradict each other');
  const expectOff = headers.some(([name, value]) => name.toLowerCase() === 'expect' && value === '');
  return {
    command: 'send',
    url,
    form,
    dataBinary: dataBinary?.slice(1),
    method: values.request,
    headers: headers.filter(([, value]) => value !== ''),
    boundary: values.boundary,
    location: values.location ?? false,
    maxRedirects: wholeNumber(values['max-redirs'], '--max-redirs') ?? 5,
    expectContinue: values['expect-continue'] ? true : values['no-expect-continue'] || expectOff ? false : undefined,
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
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
