import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DecodeError, multipartDecode, type DecodeOptions } from '../index.js';
import { getAnswer, splitFailure } from './decode-url.js';
import { splitParts } from './decode-write.js';
import { CliError, EXIT, type ExitKind } from './errors.js';
import { messageOf } from '../common/messages.js';
import { visibleLine } from '../common/visible.js';
import { parseHeaders } from './headers.js';

/**
 * The `decode` command's options, from which both its parser and its help text are made (and the
 * CLI docs can be generated).
 */
export const DECODE_SPEC = {
  usage: 'multipart-poster decode [options] [FILE | - | URL]',
  summary:
    'Splits a multipart body (a file, standard input when FILE is - or absent, or the answer to a GET of URL) ' +
    'into its parts, and lists them: index, size, name, filename, type.',
  options: {
    output: {
      type: 'string',
      short: 'o',
      arg: 'DIR',
      help: 'write each part to DIR (made if missing) as NNN-NAME, its header lines beside it in NNN-NAME.headers',
    },
    recursive: {
      type: 'boolean',
      short: 'r',
      help: 'with -o: a multipart part is split in turn, into the folder NNN-NAME',
    },
    'content-type': {
      type: 'string',
      arg: 'TYPE',
      help: "the body's Content-Type (multipart/...; boundary=...); default: a URL answer's own, else the first line --BOUNDARY",
    },
    boundary: { type: 'string', arg: 'B', help: 'the boundary itself' },
    header: {
      type: 'string',
      short: 'H',
      multiple: true,
      arg: "'N: V'",
      help: "with a URL: a request header (repeatable), e.g. 'Range: bytes=0-99,200-299'",
    },
    timeout: { type: 'string', arg: 'SECONDS', help: 'with a URL: give up after this long' },
    'max-parts': { type: 'string', arg: 'N', help: 'refuse more than N parts (default 10000)' },
    'max-part-size': { type: 'string', arg: 'BYTES', help: 'refuse a part larger than BYTES (default: no limit)' },
    'max-size': { type: 'string', arg: 'BYTES', help: 'refuse a body larger than BYTES (default: no limit)' },
    help: { type: 'boolean', short: 'h', help: 'this text' },
  },
} as const satisfies {
  usage: string;
  summary: string;
  options: Record<
    string,
    { type: 'string' | 'boolean'; short?: string; multiple?: boolean; arg?: string; help: string }
  >;
};

/** The help text, from DECODE_SPEC. */
export function decodeHelp(): string {
  const rows = Object.entries(DECODE_SPEC.options).map(([name, option]) => {
    const flag = `${'short' in option ? `-${option.short}, ` : '    '}--${name}${'arg' in option ? ` ${option.arg}` : ''}`;
    return `  ${flag.padEnd(28)} ${option.help}`;
  });
  return [`Usage: ${DECODE_SPEC.usage}`, '', DECODE_SPEC.summary, '', 'Options:', ...rows].join('\n');
}

export interface DecodeIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Standard input (default: the process's). */
  stdin?: NodeJS.ReadableStream;
}

const PARSE_CONFIG = {
  options: Object.fromEntries(
    Object.entries(DECODE_SPEC.options).map(([name, option]) => [
      name,
      {
        type: option.type,
        ...('short' in option ? { short: option.short } : {}),
        ...('multiple' in option ? { multiple: true } : {}),
      },
    ]),
  ),
  allowPositionals: true,
  strict: true,
} satisfies ParseArgsConfig;

interface Command {
  input: string;
  output: string | undefined;
  recursive: boolean;
  headers: [string, string][];
  timeoutMs: number | undefined;
  options: DecodeOptions;
}

/** Runs `multipart-poster decode ARGS` and resolves to the exit code. */
export async function runDecode(args: readonly string[], io: DecodeIo): Promise<number> {
  try {
    const command = parseCommand(args);
    if (command === 'help') {
      io.stdout.write(`${decodeHelp()}\n`);
      return EXIT.ok;
    }
    const { source, contentType, answer } = await open(command, io);
    const options = { ...command.options, ...(contentType === undefined ? {} : { contentType }) };
    const settings = { dir: command.output, recursive: command.recursive, options: command.options };
    try {
      await splitParts(multipartDecode(source, options), settings, io.stdout);
    } catch (error) {
      throw answer === undefined ? error : splitFailure(error, answer);
    } finally {
      // An answer the decoder never took (no boundary) is let go: its connection would keep the process.
      await answer?.body?.cancel().catch(() => {});
    }
    return EXIT.ok;
  } catch (error) {
    const { kind, message } = failureOf(error);
    // A DecodeError may quote the body's bytes (a header line): shown escaped, as the listing is.
    io.stderr.write(`multipart-poster decode: ${visibleLine(message)}\n`);
    if (kind === 'usage') io.stderr.write('Try multipart-poster decode --help\n');
    return EXIT[kind];
  }
}

function failureOf(error: unknown): { kind: ExitKind; message: string } {
  if (error instanceof CliError) return { kind: error.kind, message: error.message };
  if (error instanceof DecodeError) {
    if (error.code === 'ERR_INVALID_OPTION') return { kind: 'usage', message: error.message };
    if (error.code === 'ERR_SOURCE_FAILED') return { kind: 'read', message: error.message };
    return { kind: 'failure', message: `not a multipart body it can split: ${error.message}` };
  }
  return { kind: 'failure', message: messageOf(error) };
}

function parseCommand(args: readonly string[]): Command | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ ...PARSE_CONFIG, args: [...args] });
  } catch (error) {
    throw new CliError('usage', (error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help === true) return 'help';
  if (parsed.positionals.length > 1)
    throw new CliError('usage', `one input at a time, not ${parsed.positionals.length}`);
  if (values['content-type'] !== undefined && values.boundary !== undefined) {
    throw new CliError('usage', '--content-type and --boundary cannot be used together');
  }
  if (values.recursive === true && values.output === undefined) throw new CliError('usage', '--recursive needs -o DIR');
  const input = parsed.positionals[0] ?? '-';
  const isUrl = /^https?:\/\//i.test(input);
  const headers = requestHeaders((values.header as string[] | undefined) ?? []);
  if (!isUrl && (headers.length > 0 || values.timeout !== undefined))
    throw new CliError('usage', '-H and --timeout are for a URL');
  return {
    input,
    output: values.output as string | undefined,
    recursive: values.recursive === true,
    headers,
    timeoutMs: seconds(values.timeout as string | undefined),
    options: {
      ...(values['content-type'] === undefined ? {} : { contentType: values['content-type'] as string }),
      ...(values.boundary === undefined ? {} : { boundary: values.boundary as string }),
      ...limit('maxParts', values['max-parts'], '--max-parts'),
      ...limit('maxPartBytes', values['max-part-size'], '--max-part-size'),
      ...limit('maxBodyBytes', values['max-size'], '--max-size'),
    },
  };
}

/** -H for the GET: the upload command's rules (a token name, no control characters, `Name:` sends none). */
function requestHeaders(lines: readonly string[]): [string, string][] {
  const { headers, contentType, expect } = parseHeaders(lines);
  if (expect !== undefined) throw new CliError('usage', '-H Expect is for a request with a body; decode sends a GET');
  return contentType === undefined ? headers : [...headers, ['Content-Type', contentType]];
}

function limit(key: keyof DecodeOptions, value: unknown, flag: string): Partial<DecodeOptions> {
  if (value === undefined) return {};
  if (!/^[1-9]\d{0,15}$/.test(value as string) || !Number.isSafeInteger(Number(value))) {
    throw new CliError('usage', `${flag} takes a whole number from 1, not ${JSON.stringify(value)}`);
  }
  return { [key]: Number(value) };
}

function seconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value) * 1000;
  if (!/^\d+(\.\d+)?$/.test(value) || !(ms >= 1 && ms <= 2 ** 31 - 1)) {
    throw new CliError('usage', `--timeout takes seconds from 0.001 to 2147483, not ${JSON.stringify(value)}`);
  }
  return Math.ceil(ms);
}

/** The body to split, and its Content-Type when it comes with one (a URL's answer). */
async function open(
  command: Command,
  io: DecodeIo,
): Promise<{ source: AsyncIterable<Uint8Array> | Response; contentType: string | undefined; answer?: Response }> {
  if (/^https?:\/\//i.test(command.input)) return fetchInput(command);
  const stream = command.input === '-' ? ((io.stdin ?? process.stdin) as Readable) : createReadStream(command.input);
  const chunks = readInput(stream, command.input);
  if (command.options.contentType !== undefined || command.options.boundary !== undefined)
    return { source: chunks, contentType: undefined };
  return sniff(chunks);
}

async function* readInput(stream: Readable, name: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk as Uint8Array;
  } catch (error) {
    const what = name === '-' ? 'standard input' : name;
    throw new CliError('read', `cannot read ${what}: ${(error as Error).message}`);
  }
}

/** Takes the boundary from the body's first line, `--BOUNDARY`, and gives the body back whole. */
async function sniff(
  chunks: AsyncGenerator<Uint8Array>,
): Promise<{ source: AsyncIterable<Uint8Array>; contentType: string }> {
  const seen: Buffer[] = [];
  let head = Buffer.alloc(0);
  while (head.indexOf('\n') === -1 && head.length < 1024) {
    const step = await chunks.next();
    if (step.done) break;
    seen.push(Buffer.from(step.value));
    head = Buffer.concat(seen);
  }
  const match = /^--([\x20-\x7e]{1,200}?)[ \t]*\r?\n/.exec(head.toString('latin1'));
  if (!match)
    throw new CliError('usage', 'the body does not start with a line --BOUNDARY: give --content-type or --boundary');
  async function* whole() {
    yield* seen;
    yield* chunks;
  }
  return { source: whole(), contentType: `multipart/mixed; boundary="${match[1]!.replace(/["\\]/g, '\\$&')}"` };
}

async function fetchInput(
  command: Command,
): Promise<{ source: Response; contentType: string | undefined; answer: Response }> {
  const response = await getAnswer({ url: command.input, headers: command.headers, timeoutMs: command.timeoutMs });
  return {
    source: response,
    answer: response,
    contentType:
      command.options.contentType ??
      (command.options.boundary ? undefined : (response.headers.get('content-type') ?? undefined)),
  };
}
