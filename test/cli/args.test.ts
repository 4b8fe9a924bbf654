import { describe, expect, it } from 'vitest';
import { normalizeArgs } from '../../src/cli/args.js';
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
