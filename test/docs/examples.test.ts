// Every `js` block of README.md and docs/*.md runs as a reader would run it: saved as a file of its
// own (`.mjs`, or `.cjs` for a CommonJS block) in a directory holding the files it names, with
// `import 'multipart-poster'` resolving to this package (the directory is inside it), against a
// receiver on 127.0.0.1 in place of the reader's endpoint. A `// prints: X` comment is checked.
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { json, startServer, tls } from '../helpers/servers.js';
import { codeBlocks, documentationFiles, root, type CodeBlock } from './markdown.js';

// Inside the package, so that `import 'multipart-poster'` resolves to it (a package can import itself by name).
const scratch = join(root, 'test', '.readme');
const run = promisify(execFile);

// The receiver as the package ships it (dist/), whatever the layout of src/.
type Receive = (req: IncomingMessage) => Promise<unknown>;
const receiverModule = pathToFileURL(join(root, 'dist', 'receiver.js')).href;
const { receive } = (await import(receiverModule)) as { receive: Receive };

const answer = (req: IncomingMessage, res: ServerResponse) =>
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
const PLACEHOLDER = /^const (url|secureUrl) = '(https?:\/\/[^']+)'; \/\/ your .+$/gm;
/** `url` or `secureUrl` used as a variable (not a property such as `response.url`, nor a key). */
const USES_ENDPOINT = /(?<![\w$.'"-])(url|secureUrl)(?![\w$'"-])(?!\s*:)/g;

/** What a block says it prints: every `// prints: X` comment. */
function expectedOutput(code: string): string[] {
  return [...code.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1]!.trim());
}

/** A block with `require(` and no `import` statement is CommonJS, saved as `.cjs`. */
const isCommonJs = (code: string) => /\brequire\(/.test(code) && !/^\s*import\s/m.test(code);

/** The files the examples name, in a fresh directory: what a reader has beside their script. */
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

/** The block as the test runs it: each placeholder line names the given servers instead. */
function withServers(code: string, urls: { url: string; secureUrl: string }): string {
  return code.replace(
    PLACEHOLDER,
    (_line, name: 'url' | 'secureUrl') => `const ${name} = ${JSON.stringify(urls[name])};`,
  );
}

/** Every endpoint a block uses is a placeholder line a reader can see and replace. */
function undeclaredEndpoint(code: string): string | undefined {
  const declared = new Set([...code.matchAll(PLACEHOLDER)].map((m) => m[1]!));
  const body = code.replace(PLACEHOLDER, '').replace(/\/\/.*$/gm, '');
  return [...body.matchAll(USES_ENDPOINT)].map((m) => m[1]!).find((name) => !declared.has(name));
}

let directories = 0;

/** Runs a block in a directory of its own and checks what it prints. */
async function runExample({ title, code }: CodeBlock, urls = { url: plain.url, secureUrl: secure.url }) {
  const undeclared = undeclaredEndpoint(code);
  const missing = `${title} uses ${undeclared} without a line "const ${undeclared} = 'https://...'; // your endpoint"`;
  expect(undeclared, missing).toBeUndefined();
  const dir = join(scratch, `example-${++directories}`);
  readerDirectory(dir);
  const file = join(dir, isCommonJs(code) ? 'example.cjs' : 'example.mjs');
  writeFileSync(file, withServers(code, urls));
  const { stdout } = await run(process.execPath, [file], { cwd: dir, timeout: 30_000 });
  const printed = stdout.split('\n').map((l) => l.trim());
  for (const expected of expectedOutput(code)) expect(printed).toContain(expected);
}

// docs/large-files.md's examples need S3, tus and Google servers: test/parts/docs.built.test.ts runs them.
const examples = documentationFiles()
  .filter((file) => file !== 'docs/large-files.md')
  .flatMap((file) => codeBlocks(file, 'js'));

describe('the examples of README.md and docs/*.md run as written', () => {
  it('has examples to run, in the README and in docs/', () => {
    expect(examples.filter((block) => block.title.startsWith('README.md')).length).toBeGreaterThanOrEqual(4);
    expect(examples.length).toBeGreaterThan(30);
    expect(examples.filter((block) => isCommonJs(block.code)).length).toBeGreaterThanOrEqual(1);
  });

  it('gives every example a name of its own', () => {
    const titles = examples.map((block) => block.title);
    expect(titles.filter((title, i) => titles.indexOf(title) !== i)).toEqual([]);
  });

  it('shows examples/s3-multipart.mjs exactly as the tests run it', () => {
    const recipe = readFileSync(join(root, 'examples', 's3-multipart.mjs'), 'utf8');
    expect(examples.map((block) => block.code)).toContain(recipe);
  });

  it.each(examples.map((block) => [block.title, block] as const))('%s', async (_title, block) => {
    await runExample(block);
  });
});

describe("the README's quick start", () => {
  it('runs against `multipart-poster serve`, as a newcomer runs it', async () => {
    const quickStart = examples.find((block) => block.title === 'README.md › Quick start');
    expect(quickStart?.code).toContain("'http://127.0.0.1:5000/upload'");
    const serve = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'serve', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    onTestFinished(() => {
      serve.kill('SIGKILL');
    });
    const listening = await new Promise<string>((resolve, reject) => {
      let output = '';
      serve.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (\S+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      serve.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening`)));
    });
    await runExample(quickStart!, { url: `${listening}upload`, secureUrl: secure.url });
  });
});
