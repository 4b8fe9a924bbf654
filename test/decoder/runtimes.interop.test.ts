import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/cli.js';
import { env } from '../helpers/package.js';

// The built decoder on Bun and Deno (from the npm registry, as .ci/run fetches them): web
// ReadableStreams in, web streams out, the same answer as on this Node.
const run = promisify(execFile);
const script = join(import.meta.dirname, 'fixtures', 'runtime-smoke.mjs');
const library = join(root, 'dist', 'index.js');
const commands: Record<string, string[]> = {
  node: [process.execPath, script, library],
  bun: ['npx', '-y', 'bun@1.4', script, library],
  deno: ['npx', '-y', 'deno@2.9', 'run', '--no-prompt', `--allow-read=${root}`, script, library],
};

const expected = {
  parts: [
    { name: 'a', type: null, text: 'HELLO' },
    { name: 'f', filename: 'naïve.txt', type: 'text/plain', text: 'LINE ONE\r\n--LINE TWO' },
    { nested: 'inner' },
  ],
  batch: { id: '1', status: 201, json: { ok: true } },
  range: [2, 4, 10, 'abc'],
  error: [true, 'ERR_MALFORMED_HEADER', 5],
};

describe('the decoder on every runtime', () => {
  it.each(Object.keys(commands))(
    '%s',
    async (name) => {
      const [command, ...args] = commands[name]!;
      // Without the npm_* variables of the npm that runs the tests (a nested npx misreads them) and Node's compile cache.
      const childEnv = { ...env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' };
      const { stdout } = await run(command!, args, { cwd: root, timeout: 180_000, env: childEnv });
      expect(JSON.parse(stdout)).toEqual(expected);
    },
    200_000,
  );
});
