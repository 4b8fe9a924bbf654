import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Gives the whole run a temporary directory of its own (every worker inherits TMPDIR) and fails the
 * run if anything is left in it at the end: a test that leaves a file, a folder or a compiled helper
 * behind is a leak a user would have too.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'multipart-poster-test-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    const left = readdirSync(dir);
    rmSync(dir, { recursive: true, force: true });
    if (left.length > 0) {
      // vitest prints a throwing teardown as "error during close" but still exits 0.
      process.exitCode = 1;
      throw new Error(`the test run left ${left.length} entries in the temporary directory: ${left.join(', ')}`);
    }
  };
}
