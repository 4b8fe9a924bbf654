import { execFile } from 'node:child_process';
import { appendFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { multipartEncode, MultipartError, MultipartParam, upload } from '../../src/index.js';
import { root } from '../helpers/cli.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { collect } from '../helpers/parse.js';

// What a hostile review of round 2's features found, one row a class; each must end typed, exact and clean.
const dir = tempDir();

async function codeOf(make: () => unknown): Promise<string | undefined> {
  try {
    await make();
  } catch (error) {
    expect(error).toBeInstanceOf(MultipartError);
    return (error as MultipartError).code;
  }
  return undefined;
}

describe('encoded bodies cannot be made to disagree with themselves', () => {
  it('the result and its headers are frozen: what upload() sends is what was measured', async () => {
    const form = await multipartEncode({ a: 'b' });
    expect(Object.isFrozen(form) && Object.isFrozen(form.headers)).toBe(true);
    expect(() => {
      (form.headers as Record<string, string>)['Content-Length'] = '1';
    }).toThrow(TypeError);
  });

  it("a forged nested body (its boundary not its pieces') is refused", async () => {
    const real = await multipartEncode([new MultipartParam(null, { value: 'x' })], {
      subtype: 'mixed',
      boundary: 'OUTER-inner',
    });
    const forged = { boundary: 'safe', headers: { 'Content-Type': 'multipart/mixed; boundary=safe' }, body: real.body };
    expect(await codeOf(() => new MultipartParam('n', { value: forged }))).toBe('ERR_INVALID_VALUE');
    const injected = {
      boundary: real.boundary,
      headers: { 'Content-Type': `${real.headers['Content-Type']}\r\nX-Injected: 1` },
      body: real.body,
    };
    expect(await codeOf(() => new MultipartParam('n', { value: injected }))).toBe('ERR_INVALID_HEADER_VALUE');
  });

  it.each(['boundary*', 'boundary*0', 'BOUNDARY*1*'])('a %s parameter cannot name a second boundary', async (key) => {
    expect(
      await codeOf(() =>
        multipartEncode([new MultipartParam(null, { value: 'x' })], {
          subtype: 'related',
          parameters: { [key]: 'EVIL' },
        }),
      ),
    ).toBe('ERR_INVALID_OPTION');
  });

  it("a Blob-like's size is taken once and must be a whole number", async () => {
    let size = 3;
    const liar = {
      get size() {
        return size;
      },
      type: '',
      stream: () => new Blob(['abcdefgh']).stream(),
      slice: () => liar,
      arrayBuffer: async () => new ArrayBuffer(0),
    };
    const form = await multipartEncode({ f: liar as never });
    size = 8;
    await expect(collect(form.body)).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
    for (const bad of [NaN, -1, 1.5]) {
      expect(await codeOf(() => new MultipartParam('f', { fileobj: { ...liar, size: bad } as never }))).toBe(
        'ERR_INVALID_VALUE',
      );
    }
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('boom');
      },
    ],
    ['gives null', () => null],
    ['gives a plain object', () => ({})],
  ])('a Blob-like whose stream() %s fails the stream with ERR_SOURCE_FAILED', async (_label, stream) => {
    const blob = { size: 1, type: '', stream, slice: () => blob, arrayBuffer: async () => new ArrayBuffer(1) };
    const form = await multipartEncode({ f: blob as never });
    await expect(collect(form.body)).rejects.toMatchObject({ code: 'ERR_SOURCE_FAILED', paramName: 'f' });
  });

  it('misspelt options of MultipartParam and fromFile are errors, never ignored', async () => {
    expect(await codeOf(() => new MultipartParam('f', { value: 'x', header: {} } as never))).toBe('ERR_INVALID_OPTION');
    const path = writeFile(dir, 'opts.txt', 'abcdefgh');
    expect(await codeOf(() => MultipartParam.fromFile('f', path, { start: 2, stop: 4 } as never))).toBe(
      'ERR_INVALID_OPTION',
    );
  });

  it('an error inside a nameless nested part names the outer field', async () => {
    const path = writeFile(dir, 'nested-change.txt', 'abc');
    const inner = await multipartEncode([await MultipartParam.fromFile(null, path)], { subtype: 'mixed' });
    const form = await multipartEncode({ files: inner });
    appendFileSync(path, 'more');
    await expect(collect(form.body)).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'files' });
  });
});

describe("toBlob() keeps the stream body's guarantees", () => {
  it('a chosen boundary is checked in file data too', async () => {
    const path = writeFile(
      dir,
      'holds-delimiter.txt',
      'x\r\n--Chosen\r\nContent-Disposition: form-data; name="role"\r\n\r\nadmin',
    );
    const form = await multipartEncode({ doc: await MultipartParam.fromFile('doc', path) }, { boundary: 'Chosen' });
    await expect(form.toBlob()).rejects.toMatchObject({ code: 'ERR_BOUNDARY_IN_DATA', paramName: 'doc' });
  });

  it('a file changed or removed since it was measured is refused, typed', async () => {
    const changed = writeFile(dir, 'changed.txt', 'original');
    const form = await multipartEncode({ f: await MultipartParam.fromFile('f', changed) });
    writeFile(dir, 'changed.txt', 'REPLACED');
    await expect(form.toBlob()).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'f' });
    const gone = writeFile(dir, 'gone.txt', 'here');
    const form2 = await multipartEncode({ f: await MultipartParam.fromFile('f', gone) });
    rmSync(gone);
    await expect(form2.toBlob()).rejects.toMatchObject({ code: 'ERR_FILE_UNREADABLE', paramName: 'f' });
  });

  it("a spooled body's Blob keeps its temporary file while the Blob lives", async () => {
    const spoolDir = tempDir();
    const script = `
      import { multipartEncode, MultipartParam } from ${JSON.stringify(join(root, 'dist', 'index.js'))};
      async function* big() { for (let i = 0; i < 30; i++) yield Buffer.alloc(100_000, 65); }
      let form = await multipartEncode({ f: new MultipartParam('f', { fileobj: big() }) }, { spool: { dir: ${JSON.stringify(spoolDir)} } });
      const blob = await form.toBlob();
      form = undefined;
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      console.log((await blob.arrayBuffer()).byteLength === blob.size);`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--expose-gc',
      '--input-type=module',
      '-e',
      script,
    ]);
    expect(stdout.trim()).toBe('true');
  });
});

describe('nothing waits past its bound', () => {
  it('upload({ spool }) of a stream that never ends settles at its timeout, leaving no file', async () => {
    const spoolDir = tempDir();
    const never = (async function* () {
      yield Buffer.alloc(2_000_000);
      await new Promise(() => {});
    })();
    const started = Date.now();
    await expect(
      upload(
        'http://127.0.0.1:9/',
        { f: new MultipartParam('f', { fileobj: never }) },
        { spool: { dir: spoolDir }, timeout: 300 },
      ),
    ).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('a retried answer that stalls half way is dropped, its connection closed', async () => {
    let attempts = 0;
    let stalledClosed = false;
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        attempts++;
        if (attempts === 1) {
          socket.on('close', () => (stalledClosed = true));
          socket.write('HTTP/1.1 503 Busy\r\ncontent-length: 10\r\n\r\n12345'); // and never the rest
        } else socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
      const response = await upload(
        url,
        { a: 'b' },
        { method: 'PUT', retry: { limit: 1, backoff: 1 }, expectContinue: false },
      );
      expect(await response.text()).toBe('ok');
      for (let i = 0; i < 100 && !stalledClosed; i++) await new Promise((r) => setTimeout(r, 30));
      expect(stalledClosed).toBe(true);
    } finally {
      server.close();
    }
  });
});
