// The drop-in as a stream: files opened when reached, one at a time; passes that can be repeated;
// progress; Blob, File and web streams as values; bodies at every buffer edge, byte for byte as form-data.
import { createReadStream } from 'node:fs';
import http from 'node:http';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import OriginalFormData from 'form-data';
import { describe, expect, it } from 'vitest';
import FormData from '../../src/form-data/index.js';
import { bytes, openFilesUnder, tempDir, writeFile } from '../helpers/files.js';
import { bodyOf, jsonOf, startReceiver, sha256, type Receipt } from './helpers.js';

const receiver = await startReceiver();
const EDGES = [0, 1, 16383, 16384, 16385, 65535, 65536, 65537, 1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1];

describe('files: measured at append(), opened when reached, one at a time', () => {
  it("closes the caller's early-opened streams, and holds at most one file open while streaming", async () => {
    const dir = tempDir();
    const form = new FormData();
    for (let i = 0; i < 5; i++)
      form.append(`f${i}`, createReadStream(writeFile(dir, `${i}.bin`, bytes(200_000, i + 1))));
    for (let i = 0; i < 20; i++) {
      expect(openFilesUnder(dir)).toEqual([]); // their opens are held back: none of them ever opens its file
      await sleep(1);
    }
    let most = 0;
    const sink = new Writable({
      write(_chunk, _encoding, callback) {
        most = Math.max(most, openFilesUnder(dir).length);
        callback();
      },
    });
    await pipeline(form, sink);
    expect(most).toBe(1);
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('closes a stream appended after it opened its file, and still sends the file', async () => {
    const dir = tempDir();
    const path = writeFile(dir, 'late.bin', bytes(100_000, 4));
    const stream = createReadStream(path);
    await sleep(20); // opened by now; no listener of ours on it, so the form does not take it as watched
    expect(openFilesUnder(dir)).toHaveLength(1);
    const form = new FormData();
    form.append('f', stream);
    for (let i = 0; i < 100 && openFilesUnder(dir).length > 0; i++) await sleep(1);
    expect(openFilesUnder(dir)).toEqual([]);
    expect((await bodyOf(form)).includes(bytes(100_000, 4))).toBe(true);
  });

  it('reads a stream the caller watches through that stream (its listeners see the data), later passes from the path', async () => {
    const dir = tempDir();
    const path = writeFile(dir, 'watched.txt', 'watched data');
    const form = new FormData();
    const stream = createReadStream(path);
    form.append('f', stream);
    let seen = '';
    stream.on('data', (chunk) => (seen += String(chunk)));
    const first = await bodyOf(form);
    expect(seen).toBe('watched data');
    expect(first.toString()).toContain('watched data');
    expect((await bodyOf(form)).equals(first)).toBe(true);
  });

  it('closes the open file when the consumer goes away mid-body', async () => {
    const dir = tempDir();
    const form = new FormData();
    form.append('f', createReadStream(writeFile(dir, 'big.bin', bytes(4 * 1024 * 1024))));
    const sink = new Writable({
      highWaterMark: 1,
      write(_chunk, _encoding, callback) {
        setTimeout(() => this.destroy(new Error('consumer gone')), 5);
        callback();
      },
    });
    sink.on('error', () => {});
    form.pipe(sink);
    await new Promise((resolve) => sink.once('close', resolve));
    await sleep(50);
    expect(openFilesUnder(dir)).toEqual([]);
  });
});

describe('sending again', () => {
  function replayable(dir: string): FormData {
    const form = new FormData();
    form.append('text', 'value');
    form.append('bytes', bytes(70_000));
    form.append('file', createReadStream(writeFile(dir, 'r.bin', bytes(300_000, 9))));
    form.append('blob', new Blob(['blob data'], { type: 'text/plain' }));
    return form;
  }

  it('pipes the same form again, byte for byte (an axios retry, a node-fetch 307)', async () => {
    const form = replayable(tempDir());
    const first = await bodyOf(form);
    expect(first.length).toBe(form.getLengthSync());
    expect((await bodyOf(form)).equals(first)).toBe(true);
    expect((await bodyOf(form)).equals(first)).toBe(true);
  });

  it('iterates again with for await, and pipes again after a pass that failed midway', async () => {
    const form = replayable(tempDir());
    const first = await bodyOf(form);
    const chunks: Buffer[] = [];
    for await (const chunk of form) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(first)).toBe(true);
    const sink = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('failed once'));
      },
    });
    await expect(pipeline(form, sink)).rejects.toThrow('failed once');
    expect((await bodyOf(form)).equals(first)).toBe(true);
  });

  it('submits the same form twice', async () => {
    const form = replayable(tempDir());
    const send = () =>
      new Promise<Receipt>((resolve, reject) =>
        form.submit(receiver.url, (e, res) => (e ? reject(e) : jsonOf<Receipt>(res!).then(resolve))),
      );
    const [first, second] = [await send(), await send()];
    expect(second.parts).toEqual(first.parts);
    expect(first.received).toBe(form.getLengthSync());
  });

  it('refuses a second pass over a one-shot stream, typed', async () => {
    const form = new FormData();
    form.append('s', Readable.from([Buffer.from('once')]));
    await bodyOf(form);
    await expect(bodyOf(form)).rejects.toMatchObject({ code: 'ERR_SOURCE_CONSUMED', paramName: 's' });
  });
});

describe('progress', () => {
  it('emits uploadProgress (loaded, total) as the body is taken, ending at the total, again for each pass', async () => {
    const form = new FormData();
    form.append('a', bytes(3 * 1024 * 1024));
    const calls: Array<[number, number | undefined]> = [];
    form.on('uploadProgress', (loaded: number, total: number | undefined) => calls.push([loaded, total]));
    await bodyOf(form);
    const total = form.getLengthSync();
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.every(([, t]) => t === total)).toBe(true);
    expect(calls.map(([loaded]) => loaded)).toEqual([...calls.map(([loaded]) => loaded)].sort((x, y) => x - y));
    expect(calls.at(-1)).toEqual([total, total]);
    calls.length = 0;
    await bodyOf(form);
    expect(calls[0]![0]).toBeLessThan(total);
    expect(calls.at(-1)).toEqual([total, total]);
  });

  it('reports a stream of unknown length with total undefined', async () => {
    const form = new FormData();
    form.append('s', Readable.from([Buffer.from('abc')]));
    const totals: unknown[] = [];
    form.on('uploadProgress', (_loaded: number, total: number | undefined) => totals.push(total));
    await bodyOf(form);
    expect(totals.length).toBeGreaterThan(0);
    expect(new Set(totals)).toEqual(new Set([undefined]));
  });
});

describe('Blob, File and web streams as values (form-data refuses them: "source.on is not a function")', () => {
  it.each([
    [
      'a File',
      new File(['file body'], 'photo.png', { type: 'image/png' }),
      { filename: 'photo.png', type: 'image/png' },
    ],
    ['a File without a type', new File(['x'], 'notes.txt'), { filename: 'notes.txt', type: 'text/plain' }],
    ['a Blob', new Blob(['blob body']), { filename: 'blob', type: 'application/octet-stream' }],
    [
      'a typed Blob with a filename',
      new Blob(['{}'], { type: 'application/json' }),
      { filename: 'a.json', type: 'application/json' },
    ],
  ])('sends %s as a file part of known length', async (_what, value, expected) => {
    const form = new FormData();
    form.append('f', value, expected.filename === 'a.json' ? 'a.json' : undefined);
    expect(form.hasKnownLength()).toBe(true);
    const receipt = await new Promise<Receipt>((resolve, reject) =>
      form.submit(receiver.url, (e, res) => (e ? reject(e) : jsonOf<Receipt>(res!).then(resolve))),
    );
    expect(receipt).toMatchObject({
      chunked: false,
      parts: [{ name: 'f', ...expected, sha256: sha256(Buffer.from(await value.arrayBuffer())) }],
    });
  });

  it('sends a web ReadableStream, of unknown length unless knownLength says', async () => {
    const web = () => new Blob(['web stream body']).stream();
    const unknown = new FormData();
    unknown.append('w', web());
    expect(unknown.hasKnownLength()).toBe(false);
    const known = new FormData();
    known.append('w', web(), { knownLength: 15, filename: 'w.txt' });
    expect((await bodyOf(known)).length).toBe(known.getLengthSync());
    expect((await bodyOf(unknown)).toString()).toContain('web stream body');
  });

  it('sends ArrayBuffers and typed arrays as bytes', () => {
    const form = new FormData();
    form.append('ab', new Uint8Array([1, 2, 3]).buffer);
    form.append('u16', new Uint16Array([0x0201]));
    expect(form.getBuffer().toString('latin1')).toContain('\r\n\r\n\x01\x02\x03\r\n');
    expect(form.getBuffer().toString('latin1')).toContain('\r\n\r\n\x01\x02\r\n');
  });
});

describe('bodies at every buffer edge, the same bytes as form-data 4.0.6', () => {
  const dir = tempDir();

  function both(fill: (form: FormData | OriginalFormData, size: number) => void, size: number) {
    const ours = new FormData();
    const theirs = new OriginalFormData();
    ours.setBoundary('----edge-boundary');
    theirs.setBoundary('----edge-boundary');
    fill(ours, size);
    fill(theirs, size);
    return { ours, theirs };
  }

  function theirBody(form: OriginalFormData): Promise<Buffer> {
    return bodyOf(form as unknown as Readable);
  }

  it.each(EDGES)('a Buffer of %i bytes, then a field', async (size) => {
    const { ours, theirs } = both((form, n) => {
      form.append('data', bytes(n, n + 1));
      form.append('after', 'x');
    }, size);
    const expected = await theirBody(theirs);
    expect((await bodyOf(ours)).equals(expected)).toBe(true);
    expect(ours.getBuffer().equals(expected)).toBe(true);
    expect(ours.getLengthSync()).toBe(expected.length);
  });

  it.each(EDGES)('a file of %i bytes, as an fs.ReadStream', async (size) => {
    const path = writeFile(dir, `edge-${size}.bin`, bytes(size, size + 2));
    const { ours, theirs } = both((form) => form.append('file', createReadStream(path)), size);
    const expected = await theirBody(theirs);
    expect((await bodyOf(ours)).equals(expected)).toBe(true);
    expect(ours.getLengthSync()).toBe(expected.length);
  });

  it.each(EDGES.filter((size) => size <= 65537))(
    'a stream of %i bytes split at every chunk size up to 7, with knownLength',
    async (size) => {
      const data = bytes(size, 5);
      for (const step of [1, 2, 7]) {
        if (size > 20_000 && step < 7) continue; // small bodies at every byte; large ones in 7-byte chunks
        const chunks = Array.from({ length: Math.ceil(size / step) }, (_, i) =>
          data.subarray(i * step, (i + 1) * step),
        );
        const form = new FormData();
        form.setBoundary('----edge-boundary');
        form.append('s', Readable.from(chunks), { knownLength: size });
        const body = await bodyOf(form);
        expect(body.length).toBe(form.getLengthSync());
        expect(body.includes(data)).toBe(true);
      }
    },
  );

  it.each([0, 1, 16384, 65537, 1024 * 1024 + 1])(
    'a file of %i bytes over a real socket: received as declared',
    async (size) => {
      const path = writeFile(dir, `socket-${size}.bin`, bytes(size, 7));
      const form = new FormData();
      form.append('file', createReadStream(path));
      const receipt = await new Promise<Receipt>((resolve, reject) => {
        const req = http.request(receiver.url, {
          method: 'POST',
          headers: { ...form.getHeaders(), 'content-length': form.getLengthSync() },
        });
        req.on('response', (res) => jsonOf<Receipt>(res).then(resolve, reject)).on('error', reject);
        form.pipe(req);
      });
      expect(receipt).toMatchObject({
        received: form.getLengthSync(),
        parts: [{ size, sha256: sha256(bytes(size, 7)) }],
      });
    },
  );
});
