// multipart-poster/form-data as a user installs it (the packed tarball in a scratch project): the one-line
// migration from CommonJS and ESM, TypeScript with form-data's type names, errors that are the main
// entry's classes. publint and attw cover the entry in test/package/package.test.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { bin, mustRun, packAndInstall, root } from '../helpers/package.js';

const work = tempDir();
let app = '';
beforeAll(async () => {
  ({ app } = await packAndInstall(work));
}, 240_000);

// What each consumer prints: the class itself, its bytes, and errors the main entry recognises.
const check = `
form.setBoundary('b');
form.append('a', 1);
let refused;
try { form.append('x', []); } catch (error) { refused = error; }
console.log(JSON.stringify({
  name: FormData.name,
  body: form.getBuffer().toString(),
  tag: String(form),
  error: [refused.code, refused instanceof MultipartError, refused.message],
}));`;
const expected = {
  name: 'FormData',
  body: '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n',
  tag: '[object FormData]',
  error: ['ERR_INVALID_VALUE', true, 'Arrays are not supported.'],
};

describe('the installed multipart-poster/form-data', () => {
  it("require() gives the class itself, as require('form-data') does", async () => {
    writeFileSync(
      join(app, 'cjs.cjs'),
      `const FormData = require('multipart-poster/form-data');
       const { MultipartError } = require('multipart-poster');
       if (typeof FormData !== 'function') throw new Error('not the class: ' + typeof FormData);
       const form = new FormData();${check}`,
    );
    expect(JSON.parse(await mustRun(process.execPath, ['cjs.cjs'], app))).toEqual(expected);
  });

  it('import gives it as the default export', async () => {
    writeFileSync(
      join(app, 'esm.mjs'),
      `import FormData from 'multipart-poster/form-data';
       import { MultipartError } from 'multipart-poster';
       const form = new FormData();${check}`,
    );
    expect(JSON.parse(await mustRun(process.execPath, ['esm.mjs'], app))).toEqual(expected);
  });

  it('type-checks code written for form-data, with its type names', async () => {
    writeFileSync(
      join(app, 'consumer.ts'),
      `import FormData = require('multipart-poster/form-data');
       import { upload } from 'multipart-poster';
       import { createReadStream } from 'node:fs';
       const options: FormData.AppendOptions = { filename: 'a.txt', contentType: 'text/plain', knownLength: 3 };
       const headers: FormData.Headers = new FormData().getHeaders({ authorization: 'x' });
       const submit: FormData.SubmitOptions = { host: '127.0.0.1', port: 80, path: '/', protocol: 'http:' };
       const form = new FormData({ maxDataSize: 1 });
       form.append('a', 'abc', options);
       form.append('b', createReadStream('x'), 'x.bin');
       form.on('uploadProgress', (loaded: number, total: number | undefined) => void [loaded, total]);
       const length: number = form.getLengthSync();
       form.getLength((error, size) => void [error, size]);
       void [headers, submit, length, form.hasKnownLength(), form.getBoundary(), form.pipe(process.stdout)];
       void upload('http://127.0.0.1/', form);
       export {};`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    await mustRun(bin('tsc'), ['-p', join(app, 'tsconfig.json')], app);
  });
});
