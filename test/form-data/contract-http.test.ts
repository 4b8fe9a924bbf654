// form-data's test files that send forms (test-submit*, test-pipe, test-http-response,
// test-ranged-filestream, test-custom-*, test-return-http-request, test-request), as behaviours
// checked against a real receiver on 127.0.0.1 that parses every body with busboy.
import { createReadStream, statSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Readable, Stream } from 'node:stream';
import { describe, expect, it } from 'vitest';
import FormData from '../../src/form-data/index.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { json, startServer, tls } from '../helpers/servers.js';
import { jsonOf, receive, sha256, startReceiver, type Receipt } from './helpers.js';

const receiver = await startReceiver();
const fixtures = tempDir();
const image = writeFile(fixtures, 'unicycle.jpg', bytes(19_806, 3));
const veggies = writeFile(fixtures, 'veggies.txt', 'asparagus, broccoli, carrot, daikon, eggplant\n');
const unknownType = writeFile(fixtures, 'unknown_file_type', bytes(100, 4));

/** submit()'s callback as a promise of the receipt. */
function submitted(form: FormData, params: Parameters<FormData['submit']>[0]): Promise<Receipt> {
  return new Promise((resolve, reject) => {
    form.submit(params, (error, res) => (error ? reject(error) : jsonOf<Receipt>(res!).then(resolve, reject)));
  });
}

/** A static file server, as form-data's test/static.js serves its fixtures. */
const files = await startServer((req, res) => {
  const path = `${fixtures}${req.url}`;
  res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': statSync(path).size });
  createReadStream(path).pipe(res);
});

function fetchFile(name: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => http.get(`${files.origin}/${name}`, resolve).on('error', reject));
}

describe('test-submit, test-submit-custom, test-submit-custom-header: submit()', () => {
  function populated(): FormData {
    const form = new FormData();
    form.append('my_field', 'my_value');
    form.append('my_buffer', Buffer.from([1, 2, 3]));
    form.append('my_file', createReadStream(image));
    return form;
  }
  const expectedParts = [
    { name: 'my_field', type: 'text/plain', text: 'my_value' },
    { name: 'my_buffer', type: 'application/octet-stream', text: '\x01\x02\x03' },
    {
      name: 'my_file',
      filename: 'unicycle.jpg',
      type: 'image/jpeg',
      sha256: sha256(statSync(image) && bytes(19_806, 3)),
    },
  ];

  it.each([
    ['a URL', () => receiver.url],
    ['request options', () => ({ port: new URL(receiver.url).port, path: '/', host: '127.0.0.1' })],
    [
      'request options with headers',
      () => ({
        port: new URL(receiver.url).port,
        host: '127.0.0.1',
        headers: { 'x-test-header': 'test-header-value' },
      }),
    ],
  ])('posts every field with its Content-Length, given %s', async (_what, params) => {
    const form = populated();
    const receipt = await submitted(form, params() as Parameters<FormData['submit']>[0]);
    expect(receipt).toMatchObject({ method: 'POST', chunked: false, contentLength: String(form.getLengthSync()) });
    expect(receipt.parts).toMatchObject(expectedParts);
    if (typeof params() === 'object' && 'headers' in (params() as object))
      expect(receipt.headers['x-test-header']).toBe('test-header-value');
  });

  it('leaves the params object as it was (form-data writes its method, port and headers into it)', async () => {
    const params = { port: Number(new URL(receiver.url).port), host: '127.0.0.1', headers: { 'x-a': '1' } };
    const copy = structuredClone(params);
    await submitted(populated(), params);
    expect(params).toEqual(copy);
  });

  it('runs ten submits at once, with and without callbacks (test-submit-multi, -nocallback)', async () => {
    const before = receiver.receipts.length;
    const withCallbacks = Array.from({ length: 10 }, () => {
      const form = new FormData();
      form.append('my_field', 'my_value');
      return submitted(form, receiver.url);
    });
    const withoutCallbacks = Array.from({ length: 10 }, () => {
      const form = new FormData();
      form.append('my_field', 'my_value');
      return new Promise<void>((resolve) =>
        form.submit(receiver.url).on('response', (res) => res.resume().on('end', resolve)),
      );
    });
    for (const receipt of await Promise.all(withCallbacks))
      expect(receipt.parts).toMatchObject([{ name: 'my_field', text: 'my_value' }]);
    await Promise.all(withoutCallbacks);
    expect(receiver.receipts.length - before).toBe(20);
  });

  it('sends a stream of unknown length chunked, without Content-Length (test-submit-readable-stream)', async () => {
    const form = new FormData();
    form.append('readable', Readable.from(['1', '2'], { objectMode: false }));
    const receipt = await submitted(form, receiver.url);
    expect(receipt.chunked).toBe(true);
    expect(receipt.contentLength).toBeUndefined();
    expect(receipt.parts).toMatchObject([{ name: 'readable', type: 'application/octet-stream', text: '12' }]);
  });

  it("posts over HTTPS with the caller's CA (test-submit-https)", async () => {
    const server = await startServer((req, res) => void receive(req).then((receipt) => json(res, 200, receipt)), {
      https: { key: tls.key, cert: tls.cert },
    });
    const form = new FormData();
    form.append('field', 'value');
    const { port } = new URL(server.url);
    const receipt = await submitted(form, {
      protocol: 'https:',
      hostname: '127.0.0.1',
      port,
      path: '/',
      ca: tls.ca,
      servername: 'localhost',
    });
    expect(receipt.parts).toMatchObject([{ name: 'field', text: 'value' }]);
  });

  it('returns the request, with the path, agent and Host of the URL (test-submit-url-parsing)', () => {
    const form = new FormData();
    form.append('field', 'value');
    const requests = [
      [form.submit('http://localhost/path?query=kept', () => {}), '/path?query=kept', http.Agent, 'localhost'],
      [form.submit('http://localhost:8432', () => {}), '/', http.Agent, 'localhost:8432'],
      [form.submit('https://localhost/path', () => {}), '/path', https.Agent, 'localhost'],
    ] as const;
    for (const [req, path, agent, host] of requests) {
      expect(req).toBeInstanceOf(http.ClientRequest);
      expect(req.path).toBe(path);
      expect((req as unknown as { agent: unknown }).agent).toBeInstanceOf(agent);
      expect(req.getHeader('host')).toBe(host);
      req.destroy();
    }
  });

  it('sends Content-Length equal to the bytes sent, and lets a caller count the writes (test-return-http-request)', async () => {
    const form = new FormData();
    form.append('my_buffer', Buffer.alloc(1_000_000, 1));
    const expected = form._lastBoundary().length + form._overheadLength + 1_000_000;
    let written = 0;
    const receipt = await new Promise<Receipt>((resolve, reject) => {
      const req = form.submit(receiver.url, (error, res) =>
        error ? reject(error) : jsonOf<Receipt>(res!).then(resolve, reject),
      );
      const write = req.write.bind(req) as (chunk: Buffer, callback?: () => void) => boolean;
      req.write = ((chunk: Buffer) => write(chunk, () => (written += chunk.length))) as typeof req.write;
    });
    expect(receipt).toMatchObject({ contentLength: String(expected), received: expected });
    expect(written).toBe(expected);
  });
});

describe('test-pipe, test-http-response, test-request: pipe() and other streams as values', () => {
  it('pipes into http.request with getHeaders(): every field arrives', async () => {
    const form = new FormData();
    form.append('my_field', 'my_value');
    form.append('my_file', createReadStream(image));
    form.append('remote_file', await fetchFile('unicycle.jpg'));
    // test-request counts the form's data events against getLength(), as a progress monitor would.
    const length = await new Promise<number | undefined>((resolve) => form.getLength((_error, n) => resolve(n)));
    let streamed = 0;
    form.on('data', (chunk: Buffer) => (streamed += chunk.length));
    const receipt = await new Promise<Receipt>((resolve, reject) => {
      const req = http.request(receiver.url, { method: 'POST', headers: form.getHeaders() });
      req.on('response', (res) => jsonOf<Receipt>(res).then(resolve, reject)).on('error', reject);
      form.pipe(req);
    });
    expect(streamed).toBe(length);
    expect(receipt.received).toBe(length);
    expect(receipt.parts).toMatchObject([
      { name: 'my_field', text: 'my_value' },
      { name: 'my_file', filename: 'unicycle.jpg', type: 'image/jpeg', size: 19_806 },
      { name: 'remote_file', filename: 'unicycle.jpg', type: 'image/jpeg', size: 19_806 },
    ]);
  });

  it('takes an http.IncomingMessage: filename from its request, type and length from its headers', async () => {
    const form = new FormData();
    form.append('remote_file', await fetchFile('unicycle.jpg'));
    expect(form.getLengthSync()).toBe(form._overheadLength + form._lastBoundary().length + 19_806);
    expect(form.getBuffer).toThrow(); // streamed, not in memory
    const receipt = await submitted(form, receiver.url);
    expect(receipt).toMatchObject({
      chunked: false,
      parts: [{ filename: 'unicycle.jpg', type: 'image/jpeg', size: 19_806 }],
    });
  });

  it("takes an old-style stream (data and end events, as request's), and counts its data events to the length", async () => {
    class OldStream extends Stream {
      path = '/remote/unicycle.jpg';
      resume() {
        setImmediate(() => {
          this.emit('data', Buffer.from('abc'));
          this.emit('data', Buffer.from('def'));
          this.emit('end');
          this.emit('close');
        });
        return this;
      }
      pause() {
        return this;
      }
    }
    const form = new FormData();
    form.append('remote_file', new OldStream(), { knownLength: 6 });
    let streamed = 0;
    form.on('data', (chunk: Buffer) => (streamed += chunk.length));
    const receipt = await submitted(form, receiver.url);
    expect(receipt.parts).toMatchObject([{ filename: 'unicycle.jpg', type: 'image/jpeg', text: 'abcdef' }]);
    expect(receipt.received).toBe(form.getLengthSync());
    expect(streamed).toBe(0); // submit() sends a pass of its own; pipe() passes are the form's data events
  });
});

describe('test-ranged-filestream, test-custom-filename, test-custom-content-type', () => {
  const ranges = [
    { name: 'a_file', start: 8, end: 18 },
    { name: 'b_file', start: 6 },
    { name: 'c_file', end: 16 },
    { name: 'd_file', start: 0, end: 16 },
    { name: 'e_file', start: 0, end: 0 },
    { name: 'past_end', start: 40, end: 1000 },
  ];

  it('sends each range of a file, Content-Length equal to the body', async () => {
    const form = new FormData();
    const whole = bytes(0).length + statSync(veggies).size;
    for (const { name, ...range } of ranges)
      form.append(name, createReadStream(veggies, { ...range, encoding: 'utf8' }));
    const receipt = await submitted(form, receiver.url);
    expect(Number(receipt.contentLength)).toBe(receipt.received);
    const sizes = ranges.map(({ start = 0, end = Infinity }) => Math.max(Math.min(end, whole - 1) - start + 1, 0));
    expect(receipt.parts.map((part) => [part.name, part.size])).toEqual(ranges.map(({ name }, i) => [name, sizes[i]]));
  });

  it('names and types files as form-data does', async () => {
    const form = new FormData();
    const options = { filename: 'test.png', contentType: 'image/gif' };
    form.append('custom_everything', createReadStream(image), options);
    form.append('custom_filename', createReadStream(image), options.filename);
    form.append('unknown_with_filename', createReadStream(unknownType), options.filename);
    form.append('unknown_with_filename_as_object', createReadStream(unknownType), { filename: options.filename });
    form.append('custom_filepath', createReadStream(image), { filepath: 'fixture/../fixture/unicycle.jpg' });
    form.append('unknown_with_name_prop', Object.assign(createReadStream(unknownType), { name: options.filename }));
    form.append('unknown_everything', createReadStream(unknownType));
    form.append('no_type', 'my_value');
    form.append('custom_type', 'my_value', { contentType: 'image/png' });
    const receipt = await submitted(form, receiver.url);
    expect(receipt.parts.map(({ name, filename, type }) => [name, filename ?? null, type])).toEqual([
      ['custom_everything', 'test.png', 'image/gif'],
      ['custom_filename', 'test.png', 'image/jpeg'], // the path's type comes before the filename's, as in form-data
      ['unknown_with_filename', 'test.png', 'image/png'],
      ['unknown_with_filename_as_object', 'test.png', 'image/png'],
      ['custom_filepath', 'fixture/unicycle.jpg', 'image/jpeg'],
      ['unknown_with_name_prop', 'test.png', 'image/png'],
      ['unknown_everything', 'unknown_file_type', 'application/octet-stream'],
      ['no_type', null, 'text/plain'], // busboy's default: no Content-Type line was sent
      ['custom_type', null, 'image/png'],
    ]);
  });
});

describe('test-custom-headers-object, test-custom-headers-string', () => {
  it('adds header lines from an object, after Content-Disposition and Content-Type', async () => {
    const form = new FormData();
    form.append('my_buffer', Buffer.alloc(1000, 1), { header: { 'X-Test-Fake': 123 }, knownLength: 1000 });
    const body = form.getBuffer().toString('latin1');
    expect(body.split('\n')[3]).toBe('X-Test-Fake: 123\r');
    const receipt = await submitted(form, receiver.url);
    expect(receipt).toMatchObject({
      contentLength: String(form._lastBoundary().length + form._overheadLength + 1000),
      received: body.length,
    });
  });

  it('sends a string header as the whole header block, as given', async () => {
    const form = new FormData();
    const header = `${FormData.LINE_BREAK}--${form.getBoundary()}${FormData.LINE_BREAK}X-Test-Fake: 123${FormData.LINE_BREAK}${FormData.LINE_BREAK}`;
    form.append('my_buffer', Buffer.alloc(1000, 1), { header, knownLength: 1000 });
    expect(form.getBuffer().toString('latin1').split('\n')[2]).toBe('X-Test-Fake: 123\r');
    const receipt = await submitted(form, receiver.url);
    expect(receipt).toMatchObject({ contentLength: String(form._lastBoundary().length + form._overheadLength + 1000) });
    expect(receipt.received).toBe(Number(receipt.contentLength));
  });
});
