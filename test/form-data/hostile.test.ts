// What a hostile caller, source or server does to the drop-in: every case ends in a typed error (or
// the answer), nothing left open, the process alive.
import { createReadStream, unlinkSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import FormData from '../../src/form-data/index.js';
import { MultipartError, UploadError } from '../../src/index.js';
import { bytes, openFilesUnder, tempDir, writeFile } from '../helpers/files.js';
import { startServer } from '../helpers/servers.js';
import { bodyOf, jsonOf, startReceiver, type Receipt } from './helpers.js';

const receiver = await startReceiver();

/** The first error `append()` reports through the error event. */
function appendError(...args: Parameters<FormData['append']>): unknown {
  const form = new FormData();
  let reported: unknown;
  form.on('error', (error) => (reported ??= error));
  form.append(...args);
  return reported;
}

function submitted(
  form: FormData,
  url: string | FormData.SubmitOptions,
): Promise<{ error: Error | null; res?: IncomingMessage }> {
  return new Promise((resolve) => form.submit(url, (error, res) => resolve({ error, res })));
}

/** A stream that yields `good` bytes, then fails. */
function failingAfter(good: number): Readable {
  return new Readable({
    read() {
      if (good > 0) {
        this.push(Buffer.alloc(good, 1));
        good = 0;
      } else this.destroy(new Error('disk on fire'));
    },
  });
}

describe('values and options a caller should not give', () => {
  it.each([
    ['a boolean', true],
    ['a bigint', 10n],
    ['a symbol', Symbol('x')],
    ['a plain object', { a: 1 }],
    ['a function', () => 1],
    ['a Date', new Date(0)],
  ])(
    'refuses %s as a value, typed (form-data crashes later, or now with "source.on is not a function")',
    (_what, value) => {
      expect(appendError('f', value)).toMatchObject({ code: 'ERR_INVALID_VALUE' });
    },
  );

  it.each([undefined, null, {}, Symbol('n'), true])('refuses the field name %s', (name) => {
    expect(appendError(name as unknown as string, 'v')).toMatchObject({ code: 'ERR_INVALID_NAME' });
  });

  it.each([NaN, Infinity, -1, 1.5, 2 ** 53, '12x', '-3', {}, true])('refuses knownLength %s', (knownLength) => {
    expect(appendError('f', Readable.from([]), { knownLength: knownLength as number })).toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
  });

  it.each([
    ['a misspelt option', { fileName: 'a.txt' }, 'ERR_INVALID_OPTION'],
    ['a number for options', 7, 'ERR_INVALID_OPTION'],
    ['a filename that is not a string', { filename: 12 }, 'ERR_INVALID_OPTION'],
    ['CR LF in contentType', { contentType: 'text/plain\r\nX-Injected: 1' }, 'ERR_INVALID_HEADER_VALUE'],
    ['CR LF in a header value', { header: { 'X-A': 'a\r\nX-Injected: 1' } }, 'ERR_INVALID_HEADER_VALUE'],
    ['a header name that is no token', { header: { 'X A': '1' } }, 'ERR_INVALID_HEADER_NAME'],
    ['a header name that starts a delimiter', { header: { '--x': '1' } }, 'ERR_INVALID_HEADER_NAME'],
    ['an object as a header value', { header: { 'X-A': { a: 1 } } }, 'ERR_INVALID_HEADER_VALUE'],
    [
      'a Content-Disposition header',
      { header: { 'content-disposition': 'form-data; name="other"' } },
      'ERR_HEADER_CONFLICT',
    ],
    ['the same header twice', { header: { 'X-A': '1', 'x-a': '2' } }, 'ERR_HEADER_CONFLICT'],
    ['an array for header', { header: ['X-A: 1'] }, 'ERR_INVALID_OPTION'],
  ])('refuses %s', (_what, options, code) => {
    expect(appendError('f', 'v', options as FormData.AppendOptions)).toMatchObject({ code });
  });

  it.each([
    [{ unknown: 1 }, 'ERR_INVALID_OPTION'],
    [{ highWaterMark: -1 }, 'ERR_INVALID_OPTION'],
    [{ highWaterMark: NaN }, 'ERR_INVALID_OPTION'],
    [{ maxDataSize: Infinity }, 'ERR_INVALID_OPTION'],
  ])('refuses constructor options %j', (options, code) => {
    expect(() => new FormData(options as FormData.Options)).toThrow(expect.objectContaining({ code }));
  });

  it.each(['', ' ', 'a ', 'x'.repeat(71), 'a%b', 'a\r\nb', 'ä'])(
    'refuses the boundary %j (RFC 2046), typed',
    (boundary) => {
      expect(() => new FormData().setBoundary(boundary)).toThrow(MultipartError);
      expect(() => new FormData().setBoundary(boundary)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_BOUNDARY' }),
      );
    },
  );

  it('refuses a chosen boundary that the data holds: no part could be told from it', async () => {
    const form = new FormData();
    form.setBoundary('XyZ');
    form.append('a', 'line\r\n--XyZ\r\nContent-Disposition: form-data; name="is_admin"');
    expect(() => form.getBuffer()).toThrow(expect.objectContaining({ code: 'ERR_BOUNDARY_IN_DATA' }));
    await expect(bodyOf(form)).rejects.toMatchObject({ code: 'ERR_BOUNDARY_IN_DATA' });
  });

  it.each([
    ['filename', 'a.txt', { toString: () => 'evil.txt' }],
    ['filepath', 'dir/a.txt', 42],
  ])('reads each option once: a %s getter that is a string only when checked changes nothing', (key, first, later) => {
    let reads = 0;
    const options = Object.defineProperty({}, key, { enumerable: true, get: () => (reads++ === 0 ? first : later) });
    const form = new FormData();
    form.on('error', (error) => expect.unreachable(String(error)));
    form.append('a', 'x', options);
    expect(form.getBuffer().toString()).toContain(`filename="${first}"`);
  });
});

describe('a knownLength that lies: a typed error, never a body that disagrees with its Content-Length', () => {
  const dir = tempDir();
  const file = writeFile(dir, 'ten.bin', bytes(10));

  it.each([
    ['text', 'abc', 2],
    ['text', 'abc', 4],
    ['a Buffer', Buffer.alloc(1000), 1],
    ['a Blob', new Blob(['abc']), 5],
    ['an fs.ReadStream', () => createReadStream(file), 9],
  ])('refuses %s of another size when appended', (_what, value, knownLength) => {
    const given = typeof value === 'function' ? value() : value;
    expect(appendError('f', given, { knownLength })).toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'f' });
  });

  it.each([
    ['shorter', 10, ['abc']],
    ['longer', 3, ['abcdef', 'ghi']],
  ])(
    'fails a stream %s than declared before its part ends: the server sees an aborted request',
    async (_what, knownLength, chunks) => {
      const form = new FormData();
      form.append('f', Readable.from(chunks as string[], { objectMode: false }), { knownLength });
      const declared = form.getLengthSync();
      const { error } = await submitted(form, receiver.url);
      expect(error).toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'f' });
      await sleep(50);
      const receipt = receiver.receipts.at(-1);
      if (receipt !== undefined && receipt.contentLength === String(declared))
        expect(receipt.received).toBeLessThan(declared);
    },
  );
});

describe('sources that fail', () => {
  it('destroys the request the form is piped into with its error, as stream.pipeline would', async () => {
    const form = new FormData();
    form.append('s', Readable.from([Buffer.alloc(50)]), { knownLength: 100, filename: 's.bin' });
    let formError: unknown;
    form.on('error', (error) => (formError = error));
    const url = new URL(receiver.url);
    const req = request(url, {
      method: 'POST',
      headers: { ...form.getHeaders(), 'content-length': form.getLengthSync() },
    });
    const failed = new Promise<unknown>((resolve) => req.on('error', resolve));
    form.pipe(req);
    expect(await failed).toMatchObject({ name: 'MultipartError', code: 'ERR_SIZE_MISMATCH', paramName: 's' });
    expect(req.destroyed).toBe(true);
    expect(formError).toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
  }, 10_000);

  it('a destination with no error listener of its own is destroyed without crashing: the form reports the error', async () => {
    const form = new FormData();
    form.append('s', Readable.from([Buffer.alloc(50)]), { knownLength: 100, filename: 's.bin' });
    const reported = new Promise<unknown>((resolve) => form.on('error', resolve));
    const sink = new PassThrough().resume();
    const closed = new Promise<void>((resolve) => sink.on('close', resolve));
    form.pipe(sink);
    expect(await reported).toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
    await closed;
    expect(sink.destroyed).toBe(true);
  }, 10_000);

  it('leaves a destination it was unpiped from alone when it fails later', async () => {
    const form = new FormData();
    form.append('s', Readable.from([Buffer.alloc(50)]), { knownLength: 100, filename: 's.bin' });
    form.on('error', () => {});
    const sink = new PassThrough();
    form.pipe(sink);
    form.unpipe(sink);
    const other = new PassThrough().resume();
    const failed = new Promise<unknown>((resolve) => other.on('error', resolve));
    form.pipe(other);
    expect(await failed).toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
    expect(sink.destroyed).toBe(false);
  }, 10_000);

  it('piped again and again into one destination, the form leaves no listener behind on it', async () => {
    const form = new FormData();
    form.append('a', 'b');
    const sink = new PassThrough().resume();
    const before = sink.listenerCount('unpipe');
    for (let pass = 0; pass < 20; pass++) {
      const ended = new Promise((resolve) => form.once('end', resolve));
      form.pipe(sink, { end: false });
      await ended;
    }
    expect(sink.listenerCount('unpipe')).toBe(before);
  });

  it('fails with ERR_SIZE_MISMATCH when appended bytes are transferred (detached) before the form is sent', async () => {
    const data = new Uint8Array(1000);
    const form = new FormData();
    form.append('d', data);
    const declared = form.getLengthSync();
    structuredClone(data.buffer, { transfer: [data.buffer] });
    expect(form.getLengthSync()).toBe(declared);
    const { error } = await submitted(form, receiver.url);
    expect(error).toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'd' });
  });

  it('fails the pass with a typed error when a stream errors mid-body, the cause kept', async () => {
    const form = new FormData();
    form.append('a', 'first');
    form.append('f', failingAfter(100_000));
    const error = await bodyOf(form).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_SOURCE_FAILED',
      paramName: 'f',
      cause: expect.objectContaining({ message: 'disk on fire' }),
    });
  });

  it('ends submit() with that error and closes what it opened', async () => {
    const dir = tempDir();
    const form = new FormData();
    form.append('file', createReadStream(writeFile(dir, 'a.bin', bytes(300_000))));
    form.append('f', failingAfter(10));
    const { error } = await submitted(form, receiver.url);
    expect(error).toMatchObject({ code: 'ERR_SOURCE_FAILED' });
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('fails with a typed error when a file is deleted between append() and sending', async () => {
    const dir = tempDir();
    const path = writeFile(dir, 'gone.bin', bytes(1000));
    const form = new FormData();
    form.append('f', createReadStream(path));
    await sleep(10); // the caller's stream is closed by now
    unlinkSync(path);
    await expect(bodyOf(form)).rejects.toMatchObject({ code: 'ERR_FILE_UNREADABLE', paramName: 'f' });
    expect((await submitted(form, receiver.url)).error).toMatchObject({ code: 'ERR_FILE_UNREADABLE' });
  });

  it('fails with a typed error when a file changes size after append()', async () => {
    const dir = tempDir();
    const path = writeFile(dir, 'grows.bin', bytes(1000));
    const form = new FormData();
    form.append('f', createReadStream(path));
    await sleep(10);
    writeFile(dir, 'grows.bin', bytes(2000));
    await expect(bodyOf(form)).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'f' });
  });

  it('reports a progress listener that throws as ERR_CALLBACK_FAILED', async () => {
    const form = new FormData();
    form.append('a', 'b');
    form.on('uploadProgress', () => {
      throw new Error('listener bug');
    });
    await expect(bodyOf(form)).rejects.toMatchObject({ code: 'ERR_CALLBACK_FAILED' });
  });
});

describe('the form after its body started', () => {
  it('refuses append() and setBoundary() once piping started, and sends what it had', async () => {
    const form = new FormData();
    form.append('a', 'b');
    const body = bodyOf(form);
    const errors: unknown[] = [];
    form.on('error', (error) => errors.push(error));
    await sleep(0);
    form.append('late', 'x');
    expect(errors).toEqual([
      expect.objectContaining({ code: 'ERR_INVALID_PARAMS', message: expect.stringContaining('append()') }),
    ]);
    expect(() => form.setBoundary('other')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PARAMS' }));
    expect((await body).toString()).not.toContain('late');
  });
});

describe('submit() to a server that misbehaves', () => {
  const dir = tempDir();
  const big = writeFile(dir, 'big.bin', bytes(8 * 1024 * 1024));

  it('that resets the connection: the callback gets the reset, the file is closed', async () => {
    const server = await startServer((req) => req.socket.destroy());
    const form = new FormData();
    form.append('f', createReadStream(big));
    const { error } = await submitted(form, server.url);
    expect(error).toMatchObject({ code: expect.stringMatching(/ECONNRESET|EPIPE/) });
    await sleep(20);
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('that answers 413 before reading the body: the answer, sending stopped, the file closed, no crash', async () => {
    const server = await startServer((_req, res) => void res.writeHead(413).end('too large'));
    const form = new FormData();
    form.append('f', createReadStream(big));
    const { error, res } = await submitted(form, server.url);
    expect(error).toBeNull();
    expect(res!.statusCode).toBe(413);
    res!.resume();
    await new Promise((resolve) => res!.once('close', resolve));
    await sleep(20);
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('that answers and closes at once: the answer or the reset it causes, never a hang, the file closed', async () => {
    const server = await startServer((_req, res) => void res.writeHead(413, { connection: 'close' }).end('too large'));
    const form = new FormData();
    form.append('f', createReadStream(big));
    const { error, res } = await submitted(form, server.url);
    if (error === null) expect(res!.resume().statusCode).toBe(413);
    else expect(error).toMatchObject({ code: expect.stringMatching(/^(EPIPE|ECONNRESET)$/) });
    await sleep(50);
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('that never answers: a timeout ends it with UploadError ERR_TIMEOUT, the file closed', async () => {
    const server = await startServer(() => {}); // reads nothing, answers nothing
    const form = new FormData();
    form.append('f', createReadStream(big));
    const { port } = new URL(server.url);
    const { error } = await submitted(form, { host: '127.0.0.1', port, path: '/', timeout: 200 });
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ code: 'ERR_TIMEOUT' });
    await sleep(20);
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('that never answers: the caller destroying the request ends it', async () => {
    const server = await startServer(() => {});
    const form = new FormData();
    form.append('f', 'x');
    const outcome = new Promise<Error | null>((resolve) => {
      const req = form.submit(server.url, (error) => resolve(error));
      setTimeout(() => req.destroy(new Error('gave up')), 50);
    });
    expect(await outcome).toMatchObject({ message: 'gave up' });
  });

  it.each([
    [
      'a callback that is not a function',
      () => new FormData().submit('http://127.0.0.1:9/', 'cb' as never),
      'ERR_INVALID_OPTION',
    ],
    ['params that are neither a URL nor options', () => new FormData().submit(42 as never), 'ERR_INVALID_OPTION'],
    ['getLength() without a callback', () => new FormData().getLength(undefined as never), 'ERR_INVALID_OPTION'],
  ])('refuses %s, typed, before anything is sent', (_what, call, code) => {
    expect(call).toThrow(expect.objectContaining({ code }));
  });

  it('with an invalid URL: a typed error at once', () => {
    expect(() => new FormData().submit('not a url')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_URL' }));
    expect(() => new FormData().submit('ftp://127.0.0.1/')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_URL' }),
    );
    // Nothing of a password or a signature, whatever util.inspect (console.error) shows of the error.
    for (const url of ['http://u:PASSWORD@exa mple/?sig=SECRET', 'ftp://u:PASSWORD@h/?sig=SECRET']) {
      let error: unknown;
      try {
        new FormData().submit(url);
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ code: 'ERR_INVALID_URL' });
      expect(inspect(error, { depth: 10, showHidden: true })).not.toMatch(/PASSWORD|SECRET/);
    }
  });

  it('with a body that cannot be sent: the callback gets why, and no request body goes out', async () => {
    const form = new FormData();
    form.append('fake', createReadStream(`${dir}/missing.bin`));
    const before = receiver.receipts.length;
    const { error } = await submitted(form, receiver.url);
    expect(error).toMatchObject({ code: 'ERR_FILE_UNREADABLE' });
    await sleep(20);
    expect(receiver.receipts.length).toBe(before);
  });

  it('after a failed attempt, sends the same form again in full', async () => {
    const form = new FormData();
    form.append('f', createReadStream(big));
    const reset = await startServer((req) => req.socket.destroy());
    expect((await submitted(form, reset.url)).error).not.toBeNull();
    const { res } = await submitted(form, receiver.url);
    const receipt = await jsonOf<Receipt>(res!);
    expect(receipt).toMatchObject({ received: form.getLengthSync(), parts: [{ name: 'f', size: 8 * 1024 * 1024 }] });
  });
});
