import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { receive } from '../../src/receiver.js';
import { json, startServer, tls } from '../helpers/servers.js';

const root = join(import.meta.dirname, '..', '..');
const scratch = join(root, 'test', '.readme'); // inside the package, so `import 'multipart-poster'` resolves to it
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
const run = promisify(execFile);

const answer = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) =>
  receive(req).then(
    (report) => json(res, 200, report),
    (error: Error) => json(res, 400, { error: error.message }),
  );
const plain = await startServer(answer);
const secure = await startServer(answer, {
  https: { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false },
});

mkdirSync(scratch, { recursive: true });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** An endpoint a reader replaces, on a line of its own: `const url = 'https://...'; // your endpoint`. */
const PLACEHOLDER = /^const (url|secureUrl) = '(https:\/\/[^']+)'; \/\/ your .+$/gm;
/** `url` or `secureUrl` used as a variable (not a property such as `response.url`, nor a key). */
const USES_ENDPOINT = /(?<![\w$.'"-])(url|secureUrl)(?![\w$'"-])(?!\s*:)/g;

/** What a block says it prints: every `// prints: X` comment. */
function expectedOutput(code: string): string[] {
  return [...code.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1]!.trim());
}

/** The files the README's examples name, in a fresh directory: what a reader has beside their script. */
function readerDirectory(dir: string): void {
  mkdirSync(join(dir, 'uploads'), { recursive: true });
  const files = join(root, 'fixtures', 'files');
  copyFileSync(join(files, 'pixels.png'), join(dir, 'photo.png'));
  copyFileSync(join(files, 'data.json'), join(dir, 'data.json'));
  copyFileSync(join(files, 'hello.txt'), join(dir, 'notes.txt'));
  writeFileSync(
    join(dir, 'report.pdf'),
    '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
  );
  for (const name of ['ca.crt', 'client.crt', 'client.key'])
    copyFileSync(join(root, 'fixtures', 'tls', name), join(dir, name));
  copyFileSync(join(files, 'pixels.png'), join(dir, 'uploads', 'beach.png'));
  copyFileSync(join(files, 'data.json'), join(dir, 'uploads', 'itinerary.json'));
  copyFileSync(join(files, 'hello.txt'), join(dir, 'uploads', 'notes.txt'));
}

/** The block as the test runs it: each placeholder line names the local server instead. */
function withLocalServers(code: string): string {
  return code.replace(
    PLACEHOLDER,
    (_line, name: string) => `const ${name} = ${JSON.stringify(name === 'url' ? plain.url : secure.url)};`,
  );
}

describe('README examples run as written', () => {
  it('has examples to run', () => {
    expect(blocks.length).toBeGreaterThan(25);
  });

  it('shows examples/s3-multipart.mjs exactly as the tests run it', () => {
    const recipe = readFileSync(join(root, 'examples', 's3-multipart.mjs'), 'utf8');
    expect(blocks).toContain(recipe);
  });

  it.each(
    blocks.map((code, i) => [
      i + 1,
      code.split('\n').find((l) => l.includes('from') && l.includes('multipart-poster')) ?? '',
      code,
    ]),
  )('block %i (%s)', async (index, _title, code) => {
    // Every endpoint a block uses is a placeholder line a reader can see and replace.
    const declared = new Set([...(code as string).matchAll(PLACEHOLDER)].map((m) => m[1]!));
    const body = (code as string).replace(PLACEHOLDER, '').replace(/\/\/.*$/gm, '');
    const undeclared = [...body.matchAll(USES_ENDPOINT)].map((m) => m[1]!).find((name) => !declared.has(name));
    expect(
      undeclared,
      `block ${index} uses ${undeclared} without a line "const ${undeclared} = 'https://...'; // your endpoint"`,
    ).toBeUndefined();

    const dir = join(scratch, `block-${index}`);
    readerDirectory(dir);
    const file = join(dir, 'example.mjs');
    writeFileSync(file, withLocalServers(code as string));
    const { stdout } = await run(process.execPath, [file], { cwd: dir, timeout: 30_000 });
    const printed = stdout.split('\n').map((l) => l.trim());
    for (const expected of expectedOutput(code as string)) expect(printed).toContain(expected);
  });
});
