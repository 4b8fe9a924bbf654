import { describe, expect, it } from 'vitest';
import {
  normalizeArgs,
  OPTION_COMMANDS,
  OPTION_SPEC,
  type OptionCommand,
  type OptionName,
} from '../../src/cli/args.js';
import { parseOptions } from '../../src/cli/options.js';
import { send, TARGET as URL, usageError } from '../helpers/cli-options.js';

describe('an option value may start with "-", as in curl', () => {
  it.each([
    [
      ['--max-redirs', '-1', '-F', 'a=b'],
      ['--max-redirs=-1', '--form=a=b'],
    ],
    [['-H', '-x: y'], ['--header=-x: y']],
    [['-o', '-'], ['--output=-']],
    [
      ['-iLF', '-a=b'],
      ['-i', '-L', '--form=-a=b'],
    ],
    [
      ['-Fa=b', '--form=c=d'],
      ['-Fa=b', '--form=c=d'],
    ], // attached values are left alone
    [
      ['-v', '-i'],
      ['-v', '-i'],
    ],
    [['-H'], ['-H']], // a missing value is for parseArgs to report
    [
      ['-F', 'a=b', '--', '-X', 'y'],
      ['--form=a=b', '--', '-X', 'y'],
    ], // nothing after --
    [
      ['-zF', 'a=b'],
      ['-zF', 'a=b'],
    ], // an unknown letter: parseArgs reports it
  ])('%j', (argv, normalized) => {
    expect(normalizeArgs(argv)).toEqual(normalized);
  });

  it('-H with a value starting with "-" reaches the header check, not a parser error', () => {
    expect(send('-H', '-x: y', '-F', 'a=b').headers).toEqual([['-x', 'y']]);
    expect(send('-X', '--verbose', '-F', 'a=b').method).toBe('--verbose'); // a token, so a method, as curl takes it
    expect(usageError(['-X', '-v x', '-F', 'a=b', URL])).toMatch(/^-X takes an HTTP method .*, not "-v x"$/);
  });
});

describe('an option given to a command that does not read it is refused (exit 2), never ignored', () => {
  const commands: Record<OptionCommand, string[]> = {
    send: ['-F', 'a=b', URL],
    parts: ['-T', 'package.json', '--tus', URL],
    serve: ['serve'],
  };
  // The options that choose the command itself (--tus...) or end it at once (--help, --version) aside.
  const choosers = new Set(['help', 'version', 'tus', 'resumable', 's3-part-urls', 's3-part-command']);
  const rows = (Object.keys(OPTION_COMMANDS) as OptionName[]).flatMap((name) =>
    (Object.keys(commands) as OptionCommand[])
      .filter((command) => !OPTION_COMMANDS[name].includes(command) && !choosers.has(name))
      // An option of pieces alone on a single upload is said to need --tus... (partsCommand).
      .filter((command) => !(command === 'send' && OPTION_COMMANDS[name].includes('parts')))
      .map((command) => [name, command] as const),
  );

  it.each(rows)('--%s given to %s', (name, command) => {
    const option = OPTION_SPEC[name].type === 'string' ? [`--${name}`, '1'] : [`--${name}`];
    expect(usageError([...option, ...commands[command]])).toContain(`--${name}`);
  });

  it('each command takes what it reads', () => {
    expect(() =>
      parseOptions(['serve', '--port', '0', '--host', '::', '--max-size', '9', '--max-parts', '9', '--text', '-v']),
    ).not.toThrow();
    expect(() =>
      parseOptions(['-T', 'package.json', '--tus', URL, '-L', '-f', '--retry', '2', '-H', 'X: y', '-k']),
    ).not.toThrow();
    expect(usageError(['--part-size', '1', ...commands.send])).toMatch(/goes with --tus/);
    expect(usageError(['--progress', '--no-progress', ...commands.parts])).toMatch(/contradict/);
  });
});
