import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { receive } from '../src/receiver.js';
import { json, startServer, tls } from './helpers/servers.js';

const root = join(import.meta.dirname, '..');
const scratch = join(root, 'test', '.readme'); // inside the package, so `import 'multipart-poster'` resolves to it
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
const run = promisify(execFile);

const answer = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) =>
  receive(req).then((report) => json(res, 200, report), (error: Error) => json(res, 400, { error: error.message }));
const plain = await startServer(answer);
const secure = await startServer(answer, { https: { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false } });

mkdirSync(scratch, { recursive: true });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What a block says it prints: every `// prints: X` comment. */
function expectedOutput(code: string): string[] {
  return [...code.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1]!.trim());
}

describe('README examples run as written', () => {
  it('has examples to run', () => {
    expect(blocks.length).toBeGreaterThan(15);
  });

  it.each(blocks.map((code, i) => [i + 1, code.split('\n').find((l) => l.includes('from') && l.includes('multipart-poster')) ?? '', code]))(
    'block %i (%s)',
    async (index, _title, code) => {
      const file = join(scratch, `block-${index}.mjs`);
      const preamble = `const url = ${JSON.stringify(plain.url)};\nconst secureUrl = ${JSON.stringify(secure.url)};\n`;
      // imports must come first in a module: hoist them above the preamble
      const lines = (code as string).split('\n');
      const imports = lines.filter((l) => /^import /.test(l));
      const rest = lines.filter((l) => !/^import /.test(l));
      writeFileSync(file, [...imports, preamble, ...rest].join('\n'));
      const { stdout } = await run(process.execPath, [file], { cwd: root, timeout: 30_000 });
      const printed = stdout.split('\n').map((l) => l.trim());
      for (const expected of expectedOutput(code as string)) expect(printed).toContain(expected);
    },
  );
});
