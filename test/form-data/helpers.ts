import busboy from 'busboy';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable, type Readable } from 'node:stream';
import { json, startServer, type TestServer } from '../helpers/servers.js';

/** Everything a Readable (a form) streams, or its error. */
export function bodyOf(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(Buffer.from(chunk));
        callback();
      },
    });
    stream.once('error', reject);
    sink.once('finish', () => resolve(Buffer.concat(chunks)));
    stream.pipe(sink);
  });
}

export interface ReceivedPart {
  name: string;
  filename: string | undefined;
  type: string;
  size: number;
  sha256: string;
  text: string;
}

/** What the receiver saw of one request. */
export interface Receipt {
  method: string;
  contentType: string | undefined;
  contentLength: string | undefined;
  chunked: boolean;
  received: number;
  parts: ReceivedPart[];
  headers: IncomingMessage['headers'];
  error?: string;
}

export const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

/** Parses a request's body with busboy (names and filenames as UTF-8, values as bytes). */
export function receive(req: IncomingMessage): Promise<Receipt> {
  const receipt: Receipt = {
    method: req.method ?? '',
    contentType: req.headers['content-type'],
    contentLength: req.headers['content-length'],
    chunked: /chunked/i.test(req.headers['transfer-encoding'] ?? ''),
    received: 0,
    parts: [],
    headers: req.headers,
  };
  req.on('data', (chunk: Buffer) => (receipt.received += chunk.length));
  return new Promise((resolve) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        preservePath: true,
        limits: { fieldSize: Infinity },
      });
    } catch (error) {
      receipt.error = String(error);
      req.resume();
      req.on('end', () => resolve(receipt));
      return;
    }
    // In the order the parts came: a file's entry is made when it starts and filled when it ends.
    const add = (name: string, filename: string | undefined, type: string) => {
      const part = { name, filename, type, size: 0, sha256: '', text: '' };
      receipt.parts.push(part);
      return (data: Buffer) =>
        Object.assign(part, { size: data.length, sha256: sha256(data), text: data.toString('latin1') });
    };
    parser.on('field', (name, value, info) => add(name, undefined, info.mimeType)(Buffer.from(value, 'latin1')));
    parser.on('file', (name, stream, info) => {
      const fill = add(name, info.filename, info.mimeType);
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => fill(Buffer.concat(chunks)));
    });
    parser.on('close', () => resolve(receipt));
    parser.on('error', (error: Error) => {
      receipt.error = error.message;
      req.resume();
      resolve(receipt);
    });
    req.pipe(parser);
  });
}

/** A server on 127.0.0.1 that answers every request with the JSON receipt of what it parsed. */
export async function startReceiver(): Promise<TestServer & { receipts: Receipt[] }> {
  const receipts: Receipt[] = [];
  const server = await startServer((req: IncomingMessage, res: ServerResponse) => {
    void receive(req).then((receipt) => {
      receipts.push(receipt);
      json(res, 200, receipt);
    });
  });
  return Object.assign(server, { receipts });
}

/** Reads a response to its end as JSON. */
export async function jsonOf<T>(res: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString()) as T;
}
