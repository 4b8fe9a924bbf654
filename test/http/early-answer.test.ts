import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { MultipartParam, upload, UploadError } from '../../src/index.js';
import { bytes, openFilesUnder, tempDir, writeFile } from '../helpers/files.js';
import { tls } from '../helpers/servers.js';

// A server that refuses a request as soon as it has the head (413: too large, too many parts), then
// lets go of the connection with the body unread. Whatever it does next, upload() must resolve with
// the 413 (curl reads it every time), never fail with the EPIPE or ECONNRESET of its own writes, and
// never retry the refusal: the same body would be refused again.
const dir = tempDir();
const MiB = 1024 * 1024;
const bigPath = writeFile(dir, 'big.bin', bytes(16 * MiB, 3));
const REFUSAL = JSON.stringify({ error: 'too many parts' });

type Fate = (req: IncomingMessage, res: ServerResponse) => void;
const fates: Array<[string, Fate]> = [
  [
    'answers with Connection: close (Node closes, the kernel resets)',
    (_req, res) => res.setHeader('connection', 'close'),
  ],
  ['answers, then destroys the socket', (req, res) => res.on('finish', () => req.socket.destroy())],
  ['answers, then resets the connection', (req, res) => res.on('finish', () => req.socket.resetAndDestroy())],
  ['answers, then half-closes and drains', (req, res) => res.on('finish', () => (req.socket.end(), req.resume()))],
  ['answers and keeps reading', (req) => req.resume()],
];

async function refusingServer(fate: Fate, secure = false): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    fate(req, res);
    res.writeHead(413, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(REFUSAL) });
    res.end(REFUSAL);
  };
  const server = secure ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `${secure ? 'https' : 'http'}://127.0.0.1:${port}/upload`, requests: () => requests };
}

/** The outcome of one upload: the status, or the error code and its cause's code. */
async function outcome(url: string, method: string, retried: string[]): Promise<string> {
  try {
    const response = await upload(
      url,
      { file: await MultipartParam.fromFile('file', bigPath) },
      {
        method,
        expectContinue: false, // the body goes out at once, so the refusal meets it mid-way
        timeout: 20_000,
        retry: { backoff: 1, onRetry: ({ reason }) => retried.push(String(reason)) },
        tls: { ca: tls.ca },
      },
    );
    const text = await response.text();
    return text === REFUSAL ? String(response.status) : `${response.status} with another body`;
  } catch (error) {
    if (!(error instanceof UploadError)) return `untyped ${String(error)}`;
    return `${error.code} ${(error.cause as { code?: string } | undefined)?.code ?? ''}`.trim();
  }
}

describe('an early refusal reaches the caller as the Response, whatever the server does next', () => {
  for (const [label, fate] of fates) {
    for (const method of ['PUT', 'POST']) {
      it(`${label} (${method}, 20 times)`, async () => {
        const server = await refusingServer(fate);
        const seen: Record<string, number> = {};
        const retried: string[] = [];
        for (let i = 0; i < 20; i++) {
          const result = await outcome(server.url, method, retried);
          seen[result] = (seen[result] ?? 0) + 1;
        }
        expect(seen).toEqual({ 413: 20 });
        expect(retried).toEqual([]);
        expect(server.requests()).toBe(20);
        expect(openFilesUnder(dir)).toEqual([]);
      });
    }
  }

  it('over TLS too (the answer is read before the write error of the encrypted stream)', async () => {
    const server = await refusingServer((req, res) => res.on('finish', () => req.socket.destroy()), true);
    const seen: Record<string, number> = {};
    const retried: string[] = [];
    for (let i = 0; i < 20; i++) {
      const result = await outcome(server.url, 'PUT', retried);
      seen[result] = (seen[result] ?? 0) + 1;
    }
    expect(seen).toEqual({ 413: 20 });
    expect(retried).toEqual([]);
  });

  it('a server that resets mid-body without answering: a connection failure, retried as one', async () => {
    let requests = 0;
    const server = http.createServer((req) => {
      requests++;
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > MiB) req.socket.resetAndDestroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const retried: string[] = [];
      const result = await outcome(url, 'PUT', retried);
      expect(result).toMatch(/^ERR_REQUEST_FAILED (ECONNRESET|EPIPE)$/);
      expect(retried).toHaveLength(2);
      expect(requests).toBe(3);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
