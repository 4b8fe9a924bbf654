import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/files.js';

const root = join(import.meta.dirname, '..');
const consumer = tempDir();
mkdirSync(join(consumer, 'node_modules'));
symlinkSync(root, join(consumer, 'node_modules', 'multipart-poster'));

const run = (file: string) => execFileSync(process.execPath, [file], { cwd: consumer, encoding: 'utf8' });

describe('the published package shape', () => {
  it('installs from its tarball with a working multipart-poster bin', async () => {
    const packDir = join(consumer, 'pack');
    mkdirSync(packDir);
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: root, encoding: 'utf8' }).trim().split('\n').at(-1)!;
    const app = join(consumer, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(packDir, tarball)], { cwd: app, encoding: 'utf8' });
    const version = execFileSync(join(app, 'node_modules', '.bin', 'multipart-poster'), ['--version'], { encoding: 'utf8' });
    expect(version.trim()).toBe((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
    const dryRun = execFileSync(join(app, 'node_modules', '.bin', 'multipart-poster'), ['--dry-run', '--boundary', 'b', '-F', 'a=1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(dryRun).toBe('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n');
  }, 120_000);

  it('imports from an ESM file', () => {
    writeFileSync(
      join(consumer, 'esm.mjs'),
      `import { multipartEncode, MultipartParam } from 'multipart-poster';
       import { createReceiver } from 'multipart-poster/receiver';
       const form = await multipartEncode({ a: 'b' }, { boundary: 'esm' });
       console.log(typeof MultipartParam, typeof createReceiver, form.contentLength);`,
    );
    expect(run('esm.mjs').trim()).toBe('function function 63');
  });

  it('requires from a CommonJS file', () => {
    writeFileSync(
      join(consumer, 'cjs.cjs'),
      `const { multipartEncode, MultipartParam } = require('multipart-poster');
       const { createReceiver } = require('multipart-poster/receiver');
       multipartEncode({ a: 'b' }, { boundary: 'cjs' }).then((form) => console.log(typeof MultipartParam, typeof createReceiver, form.contentLength));`,
    );
    expect(run('cjs.cjs').trim()).toBe('function function 63');
  });

  it.each(['node16', 'bundler'])('type-checks in a TypeScript consumer with moduleResolution %s', (resolution) => {
    const dir = join(consumer, resolution);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          lib: ['ES2022'],
          module: resolution === 'node16' ? 'node16' : 'esnext',
          moduleResolution: resolution,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(dir, 'consumer.ts'),
      `import { multipartEncode, MultipartParam, MultipartError, type EncodedForm } from 'multipart-poster';
       import { createReceiver, type ReceiptReport } from 'multipart-poster/receiver';
       export async function send(url: string): Promise<number> {
         const form: EncodedForm = await multipartEncode({ title: 'x', image: await MultipartParam.fromFile('image', 'photo.jpg') });
         const { body, headers } = form;
         const response = await fetch(url, { method: 'POST', body, headers, duplex: 'half' });
         const code: string = new MultipartError('ERR_SIZE_UNKNOWN', 'x').code;
         const report: ReceiptReport | undefined = undefined;
         void createReceiver; void code; void report;
         return response.status;
       }
       // @ts-expect-error a wrong option is a type error
       void multipartEncode({}, { bondary: 'x' });`,
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout);
    }
    expect(output).toBe('');
  });
});
