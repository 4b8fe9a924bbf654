// Every `js` block of docs/migrate-from-form-data.md runs as written against the built package, in a
// directory with the files it names, its endpoint a local receiver; `// prints:` lines are checked.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startReceiver } from './helpers.js';

const root = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'migrate-from-form-data.md'), 'utf8');
const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
// Inside the package, so that `multipart-poster/form-data` resolves to this checkout's build.
const scratch = join(root, 'test', '.form-data-docs');
const receiver = await startReceiver();

mkdirSync(scratch, { recursive: true });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
copyFileSync(join(root, 'fixtures', 'files', 'pixels.png'), join(scratch, 'photo.png'));
writeFileSync(join(scratch, 'report.pdf'), '%PDF-1.4\n%%EOF\n');

describe('docs/migrate-from-form-data.md', () => {
  it('has examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  it.each(blocks.map((code, i) => [i + 1, code]))('block %i runs and prints what it says', async (index, code) => {
    const local = code.replace(
      /^const url = '[^']+'; \/\/ your endpoint$/m,
      `const url = ${JSON.stringify(receiver.url)};`,
    );
    expect(local).not.toBe(code);
    const file = join(scratch, `block-${index}.${/\brequire\(/.test(code) ? 'cjs' : 'mjs'}`);
    writeFileSync(file, local);
    const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: scratch, timeout: 30_000 });
    const expected = [...code.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1]!.trim());
    expect(stdout.trim().split('\n')).toEqual(expected);
  });
});
