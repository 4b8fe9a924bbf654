import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { startGoogleFake } from './fakes/google.js';
import { startS3Fake } from './fakes/s3.js';
import { startTusServer } from './fakes/tus-server.js';
import { bytesOf, MiB } from './helpers.js';

const root = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'large-files.md'), 'utf8');
const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
// Inside the package, so that `import 'multipart-poster'` resolves to it.
const scratch = join(root, 'test', '.docs-parts');
const run = promisify(execFile);
mkdirSync(scratch, { recursive: true });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const s3 = await startS3Fake();
const tusServer = await startTusServer(tempDir());
const google = await startGoogleFake();
/** A placeholder a reader replaces: `const name = '...'; // your ...`. */
const PLACEHOLDER = /^const (backend|endpoint|start) = '[^']+'; \/\/ your .+$/gm;
const local: Record<string, string> = { backend: s3.origin, endpoint: `${tusServer.endpoint}/`, start: google.start };

describe('docs/large-files.md examples run as written', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThanOrEqual(6));

  it.each(blocks.map((code, i) => [i + 1, code]))('block %i', async (index, code) => {
    const dir = join(scratch, `block-${index}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'backup.tar'), bytesOf(3 * MiB).data);
    const file = join(dir, 'example.mjs');
    writeFileSync(
      file,
      (code as string).replace(PLACEHOLDER, (_line, name: string) => `const ${name} = ${JSON.stringify(local[name])};`),
    );
    const env = { ...process.env, XDG_STATE_HOME: tempDir(), GOOGLE_TOKEN: 'token' };
    const { stdout } = await run(process.execPath, [file], { cwd: dir, env, timeout: 30_000 });
    const printed = stdout.split('\n').map((line) => line.trim());
    for (const [, expected] of (code as string).matchAll(/\/\/ prints: (.*)$/gm))
      expect(printed).toContain(expected!.trim());
  });
});
