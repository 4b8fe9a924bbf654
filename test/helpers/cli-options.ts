import { expect } from 'vitest';
import { parseOptions, type SendOptions } from '../../src/cli/options.js';

/** A URL nothing is sent to: these helpers only parse. */
export const TARGET = 'http://127.0.0.1:1/';

/** The upload command's options for `args` and TARGET. */
export const send = (...args: string[]) => parseOptions([...args, TARGET]) as SendOptions;

/** The one-line message of the usage error `args` must give. */
export function usageError(args: string[]): string {
  try {
    parseOptions(args);
  } catch (error) {
    expect(error).toMatchObject({ kind: 'usage' });
    const message = (error as Error).message;
    expect(message).not.toContain('\n'); // one line
    return message;
  }
  throw new Error(`no usage error for ${JSON.stringify(args)}`);
}
