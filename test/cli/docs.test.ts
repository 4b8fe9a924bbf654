// The option tables of docs/cli.md and `--help` against the parser's own option spec (OPTION_SPEC):
// every option documented, none invented, each written with a value where it takes one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTION_SPEC, type OptionName } from '../../src/cli/args.js';
import { EXIT } from '../../src/cli/errors.js';
import { USAGE } from '../../src/cli/usage.js';
import { DEFAULT_RETRY_STATUSES } from '../../src/http/retry.js';
import { root } from '../helpers/cli.js';

const doc = readFileSync(join(root, 'docs', 'cli.md'), 'utf8');

interface Written {
  long: string;
  short: string | undefined;
  /** What follows the option's name: its value's placeholder, or '' for a flag. */
  value: string;
}

/** `-F, --form SPEC`, `--timeout SECONDS`, `-L`, `--dry-run`: an option as the docs write it. */
function parseWritten(text: string): Written | undefined {
  const match = /^(?:-([A-Za-z]), )?--([a-z][a-z0-9.-]*)(?: (.+))?$/.exec(text);
  if (match === null) return undefined;
  return { short: match[1], long: match[2]!, value: match[3] ?? '' };
}

/** The options in the first column of the option tables (rows whose first cell starts with an option). */
function documentedOptions(markdown: string): Written[] {
  return markdown
    .split('\n')
    .filter((line) => /^\| `-/.test(line))
    .flatMap((line) => {
      const cell = line.split(' | ')[0]!;
      return [...cell.matchAll(/`([^`]+)`/g)].map((m) => parseWritten(m[1]!)).filter((w) => w !== undefined);
    });
}

/** The options `--help` lists: its lines that start with an option. */
function helpOptions(usage: string): Written[] {
  return usage
    .split('\n')
    .flatMap((line) => {
      const match = /^ {2}(?:-([A-Za-z]), | {4})--([a-z][a-z0-9.-]*)(?: (\S+(?: \S+)?))?(?: {2,}|$)/.exec(line);
      return match === null ? [] : [{ short: match[1], long: match[2]!, value: match[3] ?? '' }];
    })
    .map((written) => ({ ...written, value: written.value.startsWith("'") ? "'N: V'" : written.value }));
}

const spec = Object.entries(OPTION_SPEC) as Array<[OptionName, (typeof OPTION_SPEC)[OptionName]]>;

function expectMatchesSpec(written: Written[], where: string) {
  const names = new Set(written.map((w) => w.long));
  expect([...names].sort(), `${where}: every option of the parser, and none other`).toEqual(
    spec.map(([name]) => name).sort(),
  );
  for (const w of written) {
    const option = OPTION_SPEC[w.long as OptionName];
    const short = 'short' in option ? option.short : undefined;
    if (w.short !== undefined || short === undefined) expect(w.short, `${where}: --${w.long}`).toBe(short);
    if (option.type === 'string') expect(w.value, `${where}: --${w.long} takes a value`).not.toBe('');
    else expect(w.value, `${where}: --${w.long} is a flag`).toBe('');
  }
}

describe('the CLI reference matches the option spec', () => {
  it('docs/cli.md documents every option, invents none, and writes a value where one is taken', () => {
    expectMatchesSpec(documentedOptions(doc), 'docs/cli.md');
  });

  it('--help lists every option, invents none, and writes a value where one is taken', () => {
    expectMatchesSpec(helpOptions(USAGE), '--help');
  });

  it('every short option is written with its long one in docs/cli.md', () => {
    const withShort = documentedOptions(doc).filter((w) => w.short !== undefined);
    const shorts = spec.flatMap(([name, option]) => ('short' in option ? [`-${option.short}, --${name}`] : []));
    expect(new Set(withShort.map((w) => `-${w.short}, --${w.long}`))).toEqual(new Set(shorts));
  });

  it('the exit codes in docs/cli.md and --help are the ones the CLI has, and only those', () => {
    const codes = [...new Set(Object.values(EXIT))].sort((a, b) => a - b);
    const documented = [...doc.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(documented.filter((code) => code < 128)).toEqual(codes);
    const help = USAGE.slice(USAGE.indexOf('Exit codes'));
    const inHelp = [...help.matchAll(/(?:^|[ :,])(\d+) [a-zA-Z]/gm)].map((m) => Number(m[1]));
    expect(inHelp.filter((code) => code < 128)).toEqual(codes);
  });

  it("--retry's statuses, as documented, are upload()'s defaults: one list", () => {
    const list = DEFAULT_RETRY_STATUSES.join(' ');
    expect(USAGE).toContain(`HTTP ${list}`);
    expect(doc).toContain(`HTTP ${DEFAULT_RETRY_STATUSES.join(', ')}`);
  });
});
