import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, startServer } from '../helpers/servers.js';

// The built ESM and CommonJS files, as two different consumers of one app load them.
const dist = join(import.meta.dirname, '..', '..', 'dist');
type Library = typeof import('../../src/index.js');

describe('objects from the ESM build work with the CommonJS build and back', () => {
  it('an ESM param in CJS multipartEncode, a CJS rawBody in ESM upload, names as written', async () => {
    const esm = (await import(join(dist, 'index.js'))) as Library;
    const cjs = createRequire(import.meta.url)(join(dist, 'index.cjs')) as Library;
    const form = await cjs.multipartEncode([new esm.MultipartParam('a', { value: 'x' })], { boundary: 'B' });
    const chunks: Buffer[] = [];
    for await (const chunk of form.body) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe(
      '--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--B--\r\n',
    );

    let received = 0;
    const server = await startServer((req, res) => {
      req.on('data', (c: Buffer) => (received += c.length));
      req.on('end', () => json(res, 200, {}));
    });
    const response = await esm.upload(server.url, await cjs.rawBody(new Uint8Array(5)), { method: 'PUT' });
    await response.text();
    expect(received).toBe(5);
    expect([esm.MultipartParam.name, cjs.MultipartParam.name, cjs.MultipartError.name]).toEqual([
      'MultipartParam',
      'MultipartParam',
      'MultipartError',
    ]);
  });
});

describe('errors are recognised across the two builds', () => {
  it('instanceof holds for an error thrown by the other copy, and not for an ordinary Error', async () => {
    const esm = (await import(join(dist, 'index.js'))) as Library;
    const cjs = createRequire(import.meta.url)(join(dist, 'index.cjs')) as Library;
    const thrown = await cjs.multipartEncode({ a: 'b' }, { boundary: 'bad boundary ' }).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(esm.MultipartError);
    expect(thrown).toBeInstanceOf(cjs.MultipartError);
    expect(thrown).not.toBeInstanceOf(esm.UploadError);
    const failed = await cjs.upload('ftp://x/', { a: 'b' }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(esm.UploadError);
    expect(failed).not.toBeInstanceOf(esm.MultipartError);
    expect(new Error('x')).not.toBeInstanceOf(esm.MultipartError);
    expect((null as unknown as object) instanceof esm.UploadError).toBe(false);
  });
});
