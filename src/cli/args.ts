import { parseArgs } from 'node:util';
import { CliError } from './errors.js';

/**
 * Every option the command line takes, in node's parseArgs form: the one list the parser reads,
 * `--help` describes and docs/cli.md documents (test/cli/docs.test.ts holds the three together).
 */
export const OPTION_SPEC = {
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
  'http1.1': { type: 'boolean' },
  http2: { type: 'boolean' },
  'http2-prior-knowledge': { type: 'boolean' },
  'limit-rate': { type: 'string' },
  output: { type: 'string', short: 'o' },
  include: { type: 'boolean', short: 'i' },
  fail: { type: 'boolean', short: 'f' },
  'fail-with-body': { type: 'boolean' },
  decode: { type: 'boolean' },
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
  // Uploads in pieces (src/cli/parts.ts).
  tus: { type: 'string' },
  resumable: { type: 'string' },
  's3-part-urls': { type: 'string' },
  's3-part-command': { type: 'string' },
  's3-complete': { type: 'string' },
  's3-abort': { type: 'string' },
  's3-list': { type: 'string' },
  'part-size': { type: 'string' },
  parallel: { type: 'string' },
  resume: { type: 'boolean' },
} as const;

export type OptionName = keyof typeof OPTION_SPEC;

/** The commands that read OPTION_SPEC: a single upload, an upload in pieces, the receiver (`decode` reads its own). */
export type OptionCommand = 'send' | 'parts' | 'serve';

const SEND: readonly OptionCommand[] = ['send'];
const UPLOADS: readonly OptionCommand[] = ['send', 'parts'];
const PARTS: readonly OptionCommand[] = ['parts'];
const SERVE: readonly OptionCommand[] = ['serve'];
const EVERY: readonly OptionCommand[] = ['send', 'parts', 'serve'];

/**
 * Which commands read each option. One given to a command that does not read it is refused (exit 2),
 * never ignored: `--max-size` on an upload, or `-F` on `serve`, would otherwise look as if it did
 * something. A Record over OptionName, so an option added to OPTION_SPEC without its line fails tsc.
 * Pieces follow redirects as uploadParts does and fail on an HTTP error, so -L and -f are theirs
 * too (changing nothing); curl's retry tuning does not apply to uploadParts' retry rules.
 */
export const OPTION_COMMANDS: Record<OptionName, readonly OptionCommand[]> = {
  form: SEND,
  'form-string': SEND,
  'data-binary': SEND,
  'upload-file': UPLOADS,
  request: SEND,
  header: UPLOADS,
  boundary: SEND,
  location: UPLOADS,
  'max-redirs': SEND,
  'expect-continue': SEND,
  'no-expect-continue': SEND,
  timeout: UPLOADS,
  retry: UPLOADS,
  'retry-delay': SEND,
  'retry-max-time': SEND,
  'retry-all-errors': SEND,
  'retry-connrefused': SEND,
  proxy: UPLOADS,
  insecure: UPLOADS,
  cacert: UPLOADS,
  'http1.1': UPLOADS,
  http2: UPLOADS,
  'http2-prior-knowledge': UPLOADS,
  'limit-rate': UPLOADS,
  output: SEND,
  include: SEND,
  fail: UPLOADS,
  'fail-with-body': SEND,
  decode: SEND,
  'dry-run': SEND,
  progress: UPLOADS,
  'no-progress': UPLOADS,
  verbose: EVERY,
  help: EVERY,
  version: EVERY,
  port: SERVE,
  host: SERVE,
  'max-size': SERVE,
  'max-parts': SERVE,
  text: SERVE,
  tus: PARTS,
  resumable: PARTS,
  's3-part-urls': PARTS,
  's3-part-command': PARTS,
  's3-complete': PARTS,
  's3-abort': PARTS,
  's3-list': PARTS,
  'part-size': PARTS,
  parallel: PARTS,
  resume: PARTS,
};

/** The first option given that `command` does not read, if any. */
export function foreignOption(
  values: Partial<Record<OptionName, unknown>>,
  command: OptionCommand,
): OptionName | undefined {
  return (Object.keys(OPTION_COMMANDS) as OptionName[]).find(
    (name) => values[name] !== undefined && !OPTION_COMMANDS[name].includes(command),
  );
}

/** The options `command` reads, in OPTION_SPEC's order, but --help and --version, which every command takes. */
export function optionsOf(command: OptionCommand): OptionName[] {
  return (Object.keys(OPTION_COMMANDS) as OptionName[]).filter(
    (name) => name !== 'help' && name !== 'version' && OPTION_COMMANDS[name].includes(command),
  );
}

/** How a usage error names an option: `-F/--form`, `--port`. */
export function optionLabel(name: OptionName): string {
  const spec = OPTION_SPEC[name];
  return 'short' in spec ? `-${spec.short}/--${name}` : `--${name}`;
}

const LONG_BY_SHORT = new Map(
  Object.entries(OPTION_SPEC).flatMap(([long, spec]) =>
    'short' in spec ? [[spec.short as string, long as OptionName] as const] : [],
  ),
);

const takesValue = (name: OptionName | undefined): boolean => name !== undefined && OPTION_SPEC[name].type === 'string';

/**
 * The long option a lone argument names when it needs the next argument as its value (`--max-redirs`,
 * `-iF`), and the flags grouped before it (`-i`).
 */
function optionNeedingValue(arg: string): { long: OptionName; flags: string[] } | undefined {
  if (/^--[^=]+$/.test(arg) && arg.slice(2) in OPTION_SPEC) {
    const long = arg.slice(2) as OptionName;
    return takesValue(long) ? { long, flags: [] } : undefined;
  }
  if (!/^-[A-Za-z]+$/.test(arg)) return undefined;
  const letters = [...arg.slice(1)].map((letter) => LONG_BY_SHORT.get(letter));
  const last = letters.at(-1);
  // Only a group of known letters, every one but the last a flag, ending in one that takes a value.
  const flags = letters.slice(0, -1);
  if (!takesValue(last) || !flags.every((name) => name !== undefined && !takesValue(name))) return undefined;
  return { long: last!, flags: [...arg.slice(1, -1)].map((letter) => `-${letter}`) };
}

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
    const option = i + 1 < argv.length ? optionNeedingValue(arg) : undefined;
    if (option === undefined) out.push(arg);
    else out.push(...option.flags, `--${option.long}=${argv[++i]}`);
  }
  return out;
}

/** The arguments read against OPTION_SPEC; anything it does not know is a usage error. */
export function readArgs(argv: readonly string[]) {
  try {
    return parseArgs({
      args: normalizeArgs(argv),
      options: OPTION_SPEC,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    throw new CliError('usage', (error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

export type Args = ReturnType<typeof readArgs>;
export type ArgValues = Args['values'];
