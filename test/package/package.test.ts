// The published package, as a user gets it: a copy of this working tree without
// dist/ (like a fresh clone) is packed with `npm pack` (its prepack builds), the
// tarball is checked with publint and attw, installed into a scratch project
// (test/helpers/package.ts), and used from ESM, CommonJS and TypeScript. One
// tarball and one install serve every case. runtimes.interop.test.ts runs the same
// package on Bun and Deno.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { bin, env, listTarball, mustRun, packAndInstall, root, run, version } from '../helpers/package.js';

const work = tempDir();
let tarball = '';
let app = '';
let installed = '';

const node = (file: string, cwd = app) => mustRun(process.execPath, [file], cwd);

beforeAll(async () => {
  ({ tarball, app, installed } = await packAndInstall(work));
}, 120_000);

describe('the packed tarball', () => {
  it('is built by prepack and holds dist/ without source maps', async () => {
    const listing = listTarball(tarball).sort();
    // The chunks the package's import and its first uses load (test/package/lazy-chunks.test.ts), twins for ESM and CommonJS.
    const chunks = listing.filter((file) => file.startsWith('package/dist/chunks/'));
    for (const chunk of chunks) expect(chunk).toMatch(/^package\/dist\/chunks\/[\w-]+\.c?js$/);
    expect(chunks.filter((file) => file.endsWith('.cjs')).length).toBeGreaterThanOrEqual(5);
    expect(chunks.filter((file) => file.endsWith('.js')).length).toBe(chunks.length / 2);
    expect(listing.filter((file) => !chunks.includes(file))).toEqual(
      [
        'LICENSE',
        'README.md',
        'package.json',
        'bin/multipart-poster.cjs',
        ...[
          'cli.js',
          'form-data.cjs',
          'form-data.d.cts',
          'form-data.d.ts',
          'form-data.js',
          'index.cjs',
          'index.d.cts',
          'index.d.ts',
          'index.js',
          'receiver.cjs',
          'receiver.d.cts',
          'receiver.d.ts',
          'receiver.js',
        ].map((f) => `dist/${f}`),
      ]
        .map((f) => `package/${f}`)
        .sort(),
    );
    for (const file of listing.filter((name) => name.startsWith('package/dist/'))) {
      expect(readFileSync(join(installed, file.slice('package/'.length)), 'utf8'), file).not.toMatch(
        /sourceMappingURL/,
      );
    }
  });

  it('passes publint', async () => {
    const { code, output } = await run(bin('publint'), ['run', tarball, '--strict'], work);
    expect(output).toContain('All good!');
    expect(code).toBe(0);
  });

  it('passes attw (are the types wrong) for every entry point and resolution mode', async () => {
    const { code, output } = await run(bin('attw'), [tarball, '--format', 'json'], work);
    const result = JSON.parse(output) as {
      analysis: {
        problems: unknown[];
        entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string } }> }>;
      };
    };
    expect(result.analysis.problems).toEqual([]);
    const resolved = Object.fromEntries(
      Object.entries(result.analysis.entrypoints).map(([entry, { resolutions }]) => [
        entry,
        Object.fromEntries(
          Object.entries(resolutions).map(([mode, r]) => [
            mode,
            r.resolution?.fileName.replace('/node_modules/multipart-poster/', ''),
          ]),
        ),
      ]),
    );
    expect(resolved).toEqual({
      '.': {
        node10: 'dist/index.d.ts',
        'node16-cjs': 'dist/index.d.cts',
        'node16-esm': 'dist/index.d.ts',
        bundler: 'dist/index.d.ts',
      },
      './receiver': {
        node10: 'dist/receiver.d.ts',
        'node16-cjs': 'dist/receiver.d.cts',
        'node16-esm': 'dist/receiver.d.ts',
        bundler: 'dist/receiver.d.ts',
      },
      './form-data': {
        node10: 'dist/form-data.d.ts',
        'node16-cjs': 'dist/form-data.d.cts',
        'node16-esm': 'dist/form-data.d.ts',
        bundler: 'dist/form-data.d.ts',
      },
      './package.json': {
        node10: 'package.json',
        'node16-cjs': 'package.json',
        'node16-esm': 'package.json',
        bundler: 'package.json',
      },
    });
    expect(code).toBe(0);
  });

  it('has package metadata for the registry', () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.repository).toEqual({
      type: 'git',
      url: 'git+https://github.com/multipart-poster/multipart-poster.git',
    });
    expect(pkg.homepage).toBe('https://github.com/multipart-poster/multipart-poster#readme');
    expect(pkg.bugs).toEqual({ url: 'https://github.com/multipart-poster/multipart-poster/issues' });
  });
});

describe('the installed command line', () => {
  it('runs as the multipart-poster bin', async () => {
    const cli = join(app, 'node_modules', '.bin', 'multipart-poster');
    expect((await mustRun(cli, ['--version'], app)).trim()).toBe(version);
    // Anything but a lone --version goes on to dist/cli.js.
    expect(await mustRun(cli, ['--dry-run', '--boundary', 'b', '-F', 'a=x'], app)).toContain(
      '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--b--\r\n',
    );
    expect(await mustRun(cli, ['--version', '--help'], app)).toContain('Usage:');
    const dryRun = await promisify(execFile)(cli, ['--dry-run', '--boundary', 'b', '-F', 'a=1'], {
      cwd: app,
      env,
      encoding: 'utf8',
    });
    expect(dryRun.stdout).toBe('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n');
  });

  it('imports the library beside it instead of bundling a copy', async () => {
    const cli = readFileSync(join(installed, 'dist', 'cli.js'), 'utf8');
    const imports = [...cli.matchAll(/^import\b[^;]*?\bfrom\s*["']([^"']+)["']/gms)].map((m) => m[1]!);
    // Every class the library exports is defined in index.js only, not again in cli.js.
    const library = (await import(pathToFileURL(join(installed, 'dist', 'index.js')).href)) as Record<string, unknown>;
    const classes = Object.entries(library)
      .filter(([, value]) => typeof value === 'function' && /^class\b/.test(Function.prototype.toString.call(value)))
      .map(([name]) => name);
    expect(classes).toEqual(expect.arrayContaining(['MultipartParam', 'MultipartError', 'UploadError']));
    const copies = classes.filter((name) =>
      new RegExp(`\\bclass ${name}\\b|\\b${name} = class\\b|__name\\(this, "${name}"\\)`).test(cli),
    );
    expect({ relativeImports: [...new Set(imports.filter((path) => path.startsWith('.')))].sort(), copies }).toEqual({
      relativeImports: ['./index.js', './receiver.js'],
      copies: [],
    });
  });
});

// A consumer that starts the receiver, uploads a form and a raw body to it, and prints what it saw.
const consumerBody = `
const server = createReceiver();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = 'http://127.0.0.1:' + server.address().port + '/';
const form = await multipartEncode({ a: 'b', file: new MultipartParam('file', { value: 'hi', filename: 'hi.txt' }) }, { boundary: 'xyz' });
const sent = await (await upload(url, form)).json();
const raw = await (await upload(url, await rawBody(new Uint8Array([1, 2, 3])), { method: 'PUT' })).json();
server.closeAllConnections();
server.close();
console.log(JSON.stringify({
  names: [MultipartParam.name, MultipartError.name, UploadError.name],
  contentLength: form.contentLength,
  sent: [sent.lengthMatches, sent.parts.map((part) => part.name + ':' + (part.filename ?? '') + ':' + part.size)],
  raw: [raw.method, raw.bytesReceived],
}));`;
const expected = {
  names: ['MultipartParam', 'MultipartError', 'UploadError'],
  contentLength: 166,
  sent: [true, ['a::1', 'file:hi.txt:2']],
  raw: ['PUT', 3],
};

describe('the installed library at run time', () => {
  it('works from an ESM file', async () => {
    writeFileSync(
      join(app, 'esm.mjs'),
      `import { multipartEncode, upload, rawBody, MultipartParam, MultipartError, UploadError } from 'multipart-poster';
       import { createReceiver } from 'multipart-poster/receiver';
       ${consumerBody}`,
    );
    expect(JSON.parse(await node('esm.mjs'))).toEqual(expected);
  });

  it('works from a CommonJS file', async () => {
    writeFileSync(
      join(app, 'cjs.cjs'),
      `const { multipartEncode, upload, rawBody, MultipartParam, MultipartError, UploadError } = require('multipart-poster');
       const { createReceiver } = require('multipart-poster/receiver');
       (async () => { ${consumerBody} })().catch((error) => { console.error(error); process.exitCode = 1; });`,
    );
    expect(JSON.parse(await node('cjs.cjs'))).toEqual(expected);
  });
});

// What a TypeScript user writes: every public entry, and a wrong option caught.
const typedConsumer = `
import { multipartEncode, upload, rawBody, MultipartParam, MultipartError, type EncodedForm, type EncodedBody } from 'multipart-poster';
import { createReceiver, formatReport, type ReceiptReport } from 'multipart-poster/receiver';

export async function send(url: string): Promise<ReceiptReport> {
  const form: EncodedForm = await multipartEncode({ title: 'x', image: await MultipartParam.fromFile('image', 'photo.jpg') });
  const raw: EncodedBody = await rawBody(new Uint8Array([1, 2, 3]), { type: 'application/octet-stream' });
  const response = await upload(url, form, { onUploadProgress: (loaded: number, total: number | undefined) => void [loaded, total] });
  await upload(new URL(url), raw, { method: 'PUT', headers: { 'x-a': 'b' } });
  const code: string = new MultipartError('ERR_SIZE_UNKNOWN', 'x').code;
  const name: string = MultipartParam.name;
  const server = createReceiver({ format: 'text', onReport: (report: ReceiptReport) => void formatReport(report) });
  server.close();
  void code;
  void name;
  return (await response.json()) as ReceiptReport;
}

// @ts-expect-error a wrong option is a type error
void multipartEncode({}, { bondary: 'x' });
`;

// docs/recipes.md's fetch example, which type-checks with lib ES2022 and @types/node (RequestInit is
// undici's: it takes an async iterable body and `duplex`), and a web stream made from the body.
const fetchConsumer = `
import { multipartEncode, MultipartParam } from 'multipart-poster';
import { Readable } from 'node:stream';
export async function post(url: string): Promise<number> {
  const { body, headers } = await multipartEncode({ title: 'x', image: await MultipartParam.fromFile('image', 'photo.jpg') });
  const response = await fetch(url, { method: 'POST', body, headers, duplex: 'half' });
  await fetch(url, { method: 'POST', body: ReadableStream.from(body), headers, duplex: 'half' });
  await fetch(url, { method: 'POST', body: Readable.toWeb(Readable.from(body)), headers, duplex: 'half' });
  return response.status;
}
`;

// With the DOM lib, fetch's RequestInit is the DOM's (TypeScript 5.9, @types/node 20): its body is
// a BodyInit (Blob, BufferSource, FormData, URLSearchParams, string or the DOM's ReadableStream,
// never an async iterable) and it has no `duplex`. Each @ts-expect-error line is what fails there
// (an unused one fails the test, so a change in TypeScript's libs is noticed); the rest is what
// passes: a DOM ReadableStream pulled from the body, and `duplex` through a widened RequestInit.
const domFetchConsumer = `
import { multipartEncode, MultipartParam } from 'multipart-poster';
import { Readable } from 'node:stream';
export async function post(url: string): Promise<number> {
  const form = await multipartEncode({ title: 'x', image: await MultipartParam.fromFile('image', 'photo.jpg') });
  // @ts-expect-error the body (an AsyncIterable<Buffer>) is not a DOM BodyInit
  void fetch(url, { method: 'POST', body: form.body, headers: form.headers });
  // @ts-expect-error ReadableStream.from is not in TypeScript 5.9's DOM lib
  void ReadableStream.from(form.body);
  // @ts-expect-error Readable.toWeb gives node:stream/web's ReadableStream, which is not the DOM's
  void fetch(url, { method: 'POST', body: Readable.toWeb(Readable.from(form.body)), headers: form.headers });

  const chunks = form.body[Symbol.asyncIterator]();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await chunks.return();
    },
  });
  // @ts-expect-error duplex is not in the DOM's RequestInit (an object literal may not name it)
  void fetch(url, { method: 'POST', body: stream, headers: form.headers, duplex: 'half' });
  const init: RequestInit & { duplex: 'half' } = { method: 'POST', body: stream, headers: form.headers, duplex: 'half' };
  const response = await fetch(url, init);
  await fetch(new Request(url, init));
  return response.status;
}
`;

// Set MULTIPART_POSTER_WEB_BODIES=1 to type-check consumers of form.toBlob() and
// form.toReadableStream() (issue 11 section 1), which compile once that API is in src/. Once it
// has landed, make this `true`.
const WEB_BODIES = true;

// A Blob body: an exact length, no duplex, and a BodyInit under every lib setting.
const toBlobConsumer = `
import { multipartEncode, rawBody, MultipartParam } from 'multipart-poster';
export async function post(url: string): Promise<number> {
  const form = await multipartEncode({ title: 'x', image: await MultipartParam.fromFile('image', 'photo.jpg') });
  const blob: Blob = await form.toBlob();
  const response = await fetch(url, { method: 'POST', body: blob, headers: form.headers });
  const raw = await rawBody('photo.jpg');
  await fetch(url, { method: 'PUT', body: await raw.toBlob(), headers: raw.headers });
  await fetch(new Request(url, { method: 'POST', body: await form.toBlob(), headers: form.headers }));
  return response.status + blob.size;
}
`;

// A web stream of the body: the global ReadableStream (the DOM's under the DOM lib, so that it is a
// BodyInit there; node:stream/web's type is not), with duplex through a widened RequestInit.
const toReadableStreamConsumer = `
import { multipartEncode, MultipartParam } from 'multipart-poster';
export async function post(url: string): Promise<number> {
  const form = await multipartEncode({ title: 'x', image: await MultipartParam.fromFile('image', 'photo.jpg') });
  const stream: ReadableStream<Uint8Array> = form.toReadableStream();
  const init: RequestInit & { duplex: 'half' } = { method: 'POST', body: stream, headers: form.headers, duplex: 'half' };
  const response = await fetch(url, init);
  await form.toReadableStream().cancel();
  return response.status;
}
`;
const webBodyFiles: Record<string, string> = WEB_BODIES
  ? { 'to-blob.ts': toBlobConsumer, 'to-readable-stream.ts': toReadableStreamConsumer }
  : {};

// The same from a CommonJS TypeScript file (require conditions, the .d.cts types).
const cjsConsumer = `
import { multipartEncode, upload, rawBody, MultipartParam } from 'multipart-poster';
import { createReceiver, type ReceiptReport } from 'multipart-poster/receiver';
export async function send(url: string): Promise<ReceiptReport> {
  const raw = await rawBody(Buffer.from('x'));
  await upload(url, raw);
  const response = await upload(url, await multipartEncode({ a: new MultipartParam('a', { value: 'b' }) }));
  createReceiver().close();
  return (await response.json()) as ReceiptReport;
}
`;

interface TsCase {
  module: string;
  moduleResolution: string;
  lib: string[];
  files: Record<string, string>;
  type?: 'module' | 'commonjs';
}

const tsCases: Record<string, TsCase> = {
  node16: {
    module: 'node16',
    moduleResolution: 'node16',
    lib: ['ES2022'],
    type: 'module',
    files: { 'consumer.ts': typedConsumer, 'fetch.ts': fetchConsumer, 'consumer.cts': cjsConsumer, ...webBodyFiles },
  },
  nodenext: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    lib: ['ES2022'],
    type: 'module',
    files: { 'consumer.ts': typedConsumer, 'fetch.ts': fetchConsumer, 'consumer.cts': cjsConsumer, ...webBodyFiles },
  },
  bundler: {
    module: 'esnext',
    moduleResolution: 'bundler',
    lib: ['ES2022'],
    files: { 'consumer.ts': typedConsumer, 'fetch.ts': fetchConsumer, ...webBodyFiles },
  },
  'nodenext with the DOM lib': {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    lib: ['ES2022', 'DOM'],
    type: 'module',
    files: {
      'consumer.ts': typedConsumer,
      'dom-fetch.ts': domFetchConsumer,
      'consumer.cts': cjsConsumer,
      ...webBodyFiles,
    },
  },
  // Old-style resolution that ignores "exports": typesVersions maps multipart-poster/receiver.
  node10: {
    module: 'commonjs',
    moduleResolution: 'node10',
    lib: ['ES2022'],
    type: 'commonjs',
    files: { 'consumer.ts': typedConsumer },
  },
};

describe('the installed types', () => {
  it.concurrent.for(Object.keys(tsCases))(
    'type-check a TypeScript consumer with %s',
    { timeout: 180_000 },
    async (label, { expect }) => {
      const { files, type, ...options } = tsCases[label]!;
      const dir = join(app, `ts-${label.replaceAll(' ', '-')}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), JSON.stringify(type ? { type } : {}));
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            ...options,
            strict: true,
            noEmit: true,
            target: 'ES2022',
            types: ['node'],
            typeRoots: [join(root, 'node_modules/@types')],
          },
          files: Object.keys(files),
        }),
      );
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      const { code, output } = await run(
        process.execPath,
        [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir],
        dir,
      );
      expect(output).toBe('');
      expect(code).toBe(0);
    },
  );
});
