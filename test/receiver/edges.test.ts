import { createHash } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createReceiver, receive, type ReceiptReport } from '../../src/receiver/index.js';
import { bytes } from '../helpers/files.js';
import { answerJson, exchange, head } from './hostile.js';

// The sizes at every buffer edge the streams involved have (16 KiB and 64 KiB high-water marks), and 1 MiB around.
const MiB = 1024 * 1024;
const SIZES = [0, 1, 16383, 16384, 16385, 65535, 65536, 65537, MiB - 1, MiB, MiB + 1];
const B = 'edge-boundary';
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A multipart body of exactly `total` bytes (one file part, padded), or the smallest one when `total` is below that. */
function formOf(total: number): { body: Buffer; data: Buffer } {
  const head = `--${B}\r\nContent-Disposition: form-data; name="f"; filename="f.bin"\r\n\r\n`;
  const tail = `\r\n--${B}--\r\n`;
  const data = bytes(Math.max(0, total - head.length - tail.length), total);
  return { body: Buffer.concat([Buffer.from(head), data, Buffer.from(tail)]), data };
}

const server = createReceiver({ idleTimeoutMs: 10_000 });
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
afterAll(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));

/** Sends the request head and `body` cut into `chunk`-byte writes (0: one write with the head), and returns the report. */
async function post(type: string | null, body: Buffer, chunk = 0): Promise<ReceiptReport> {
  const start = Buffer.from(head('/edge', type, body.length, 'Connection: close\r\n'));
  const pieces = chunk === 0 ? [Buffer.concat([start, body])] : [start, ...cut(body, chunk)];
  const { status, response } = await exchange(port, pieces, 'answer', 20_000);
  expect(status, response.toString('latin1', 0, 300)).toBe(200);
  return answerJson(response) as ReceiptReport;
}

function cut(body: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out;
}

describe('over a real socket: bodies at every buffer edge, in one write (the head included) and in 16 KiB writes', () => {
  it.each(SIZES)('a multipart body of %i bytes (or the smallest above it)', async (size) => {
    const { body, data } = formOf(size);
    for (const chunk of [0, 16384]) {
      const report = await post(`multipart/form-data; boundary=${B}`, body, chunk);
      expect(report).toMatchObject({ bytesReceived: body.length, lengthMatches: true, partCount: 1 });
      expect(report.parts).toEqual([
        { name: 'f', filename: 'f.bin', type: null, size: data.length, sha256: sha256(data) },
      ]);
    }
  });

  it.each(SIZES)('a raw body of %i bytes', async (size) => {
    const body = bytes(size, size + 7);
    for (const chunk of [0, 16384]) {
      const report = await post('application/octet-stream', body, chunk);
      expect(report.parts).toEqual([
        { name: '', filename: undefined, type: 'application/octet-stream', size, sha256: sha256(body) },
      ]);
    }
  });

  it('a small multipart body written in two pieces, cut at every position', async () => {
    const { body, data } = formOf(150);
    for (let at = 0; at <= body.length; at++) {
      const start = Buffer.from(
        head('/edge', `multipart/form-data; boundary=${B}`, body.length, 'Connection: close\r\n'),
      );
      const { status, response } = await exchange(
        port,
        [Buffer.concat([start, body.subarray(0, at)]), body.subarray(at)],
        'answer',
      );
      expect(status).toBe(200);
      expect((answerJson(response) as ReceiptReport).parts[0]!.sha256).toBe(sha256(data));
    }
  });

  // The Node 20 stall (issue 15, class 1): a first chunk larger than the stream's high-water mark that
  // holds the whole 16-64 KiB body made the previous parser wait forever, answered 408 after the idle timeout.
  it.each([17_000, 31_000, 40_000, 63_000])(
    'a %i-byte upload in one write is answered at once, not after the idle timeout',
    async (size) => {
      const { body } = formOf(size);
      const report = await post(`multipart/form-data; boundary=${B}`, body);
      expect(report.parts[0]!.size).toBe(body.length - formOf(0).body.length);
    },
  );
});

/** A request fed by hand, as Node's HTTP parser feeds one: `chunks` pushed in order, then the end. */
function fedRequest(type: string | null, chunks: Buffer[]): IncomingMessage {
  const req = new IncomingMessage(new net.Socket());
  req.method = 'POST';
  req.url = '/fed';
  const length = chunks.reduce((sum, c) => sum + c.length, 0);
  req.headers = { 'content-length': String(length), ...(type === null ? {} : { 'content-type': type }) };
  setImmediate(() => {
    for (const chunk of chunks) req.push(chunk);
    req.complete = true;
    req.push(null);
  });
  return req;
}

describe('fed directly: receive() given a request whose chunks are pushed by hand', () => {
  it.each(SIZES)('a multipart body of %i bytes in one chunk, and in chunks of 16383 and 65537 bytes', async (size) => {
    const { body, data } = formOf(size);
    for (const chunks of [[body], cut(body, 16383), cut(body, 65537)]) {
      const report = await receive(fedRequest(`multipart/form-data; boundary=${B}`, chunks), { idleTimeoutMs: 10_000 });
      expect(report).toMatchObject({ bytesReceived: body.length, lengthMatches: true });
      expect(report.parts[0]).toMatchObject({ size: data.length, sha256: sha256(data) });
    }
  });

  it('a 70 KB first chunk holding the whole body (the Node 22 reproduction of the stall)', async () => {
    const { body, data } = formOf(70_000);
    const report = await receive(fedRequest(`multipart/form-data; boundary=${B}`, [body]), { idleTimeoutMs: 5_000 });
    expect(report.parts[0]!.sha256).toBe(sha256(data));
  });

  it('a small multipart body in chunks of one byte', async () => {
    const { body, data } = formOf(200);
    const report = await receive(fedRequest(`multipart/form-data; boundary=${B}`, cut(body, 1)));
    expect(report.parts[0]!.sha256).toBe(sha256(data));
  });

  it.each(SIZES)('a raw body of %i bytes', async (size) => {
    const body = bytes(size, 3);
    const report = await receive(fedRequest(null, size === 0 ? [] : [body]));
    expect(report.parts).toEqual([{ name: '', filename: undefined, type: null, size, sha256: sha256(body) }]);
  });
});

describe('a preamble over maxHeaderBytes: the same answer however the request is written or fed', () => {
  const TYPE = `multipart/form-data; boundary=${B}`;
  const withPreamble = (length: number) =>
    Buffer.concat([Buffer.alloc(length, 'p'), Buffer.from('\r\n'), formOf(0).body]);
  const rows: [what: string, length: number, status: number][] = [
    ['16 KiB (the limit)', 16 * 1024, 200],
    ['16 KiB + 1', 16 * 1024 + 1, 400],
    ['20 KiB', 20 * 1024, 400],
    ['1 MiB', MiB, 400],
  ];

  it.each(rows)(
    '%s over a real socket: one write, and 1, 4 KiB, 16 KiB ± 1 and 64 KiB ± 1 writes',
    async (_what, length, expected) => {
      const body = withPreamble(length);
      const start = Buffer.from(head('/preamble', TYPE, body.length, 'Connection: close\r\n'));
      const ways = [
        [Buffer.concat([start, body])],
        ...[4096, 16383, 16385, 65535, 65537].map((size) => [start, ...cut(body, size)]),
      ];
      if (length < 20 * 1024) ways.push([start, ...cut(body, 1)]);
      for (const pieces of ways) {
        const { status, response } = await exchange(port, pieces, 'answer', 20_000);
        expect(status, response.toString('latin1', 0, 300)).toBe(expected);
        if (expected === 400) expect(answerJson(response)).toMatchObject({ code: 'ERR_MALFORMED_BODY' });
      }
    },
  );

  it.each(rows)(
    '%s fed directly: one chunk, and chunks of 1, 16 KiB ± 1 and 64 KiB ± 1',
    async (_what, length, expected) => {
      const body = withPreamble(length);
      for (const size of [body.length, 1, 16383, 16385, 65535, 65537]) {
        const settled = await receive(fedRequest(TYPE, cut(body, size)), { idleTimeoutMs: 10_000 }).then(
          () => 200,
          (error: { status: number; code: string }) => (expect(error.code).toBe('ERR_MALFORMED_BODY'), error.status),
        );
        expect(settled, `in chunks of ${size}`).toBe(expected);
      }
    },
  );
});
