import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The run's directory, shared by the projects of one vitest command (each runs this setup). */
interface RunDirectory {
  dir: string;
  previous: string | undefined;
  projects: number;
}

const KEY: unique symbol = Symbol.for('multipart-poster.test-temp-dir');
const shared = globalThis as { [KEY]?: RunDirectory };

/**
 * Gives the whole run a temporary directory of its own (every worker inherits TMPDIR) and fails the
 * run if anything is left in it at the end: a test that leaves a file, a folder or a compiled helper
 * behind is a leak a user would have too. Projects run together (`npx vitest run` without
 * `--project`) share the directory, and the last teardown checks it: a directory per project was
 * made inside the one before (TMPDIR already pointed there), so an outer check met the inner
 * directory, or a directory an inner teardown had just removed.
 */
function created(): RunDirectory {
  const dir = mkdtempSync(join(tmpdir(), 'multipart-poster-test-'));
  // A teardown vitest abandons (another one threw) skips the check; the directory still goes.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { dir, previous: process.env.TMPDIR, projects: 0 };
}

export default function setup(): () => void {
  const run = (shared[KEY] ??= created());
  run.projects++;
  process.env.TMPDIR = run.dir;
  return () => {
    if (--run.projects > 0) return;
    delete shared[KEY];
    if (run.previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = run.previous;
    const left = readdirSync(run.dir);
    rmSync(run.dir, { recursive: true, force: true });
    if (left.length > 0) {
      // vitest prints a throwing teardown as "error during close" but still exits 0.
      process.exitCode = 1;
      throw new Error(`the test run left ${left.length} entries in the temporary directory: ${left.join(', ')}`);
    }
  };
}
