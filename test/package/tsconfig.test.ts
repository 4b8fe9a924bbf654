// `npm run typecheck` checks what tsconfig.json's `include` names: a pattern that matches no
// file (it once named bench/*.ts and examples/*.ts, where there are only .mjs files) checks nothing.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/package.js';

describe('tsconfig.json', () => {
  it('has no include pattern that matches no file', async () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const { stdout } = await promisify(execFile)(process.execPath, [tsc, '--showConfig'], { cwd: root });
    const config = JSON.parse(stdout) as { include: string[]; files: string[] };
    const matchesNothing = config.include.filter((pattern) => {
      const [prefix = ''] = pattern.split('*');
      return !config.files.some((file) => file.replace(/^\.\//, '').startsWith(prefix));
    });
    expect(config.files.length).toBeGreaterThan(10);
    expect(matchesNothing).toEqual([]);
  });
});
