import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createProxy } from 'proxy';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const tlsDir = join(import.meta.dirname, '..', '..', 'fixtures', 'tls');
export const tls = {
  ca: readFileSync(join(tlsDir, 'ca.crt')),
  cert: readFileSync(join(tlsDir, 'server.crt')),
  key: readFileSync(join(tlsDir, 'server.key')),
  clientCert: readFileSync(join(tlsDir, 'client.crt')),
  clientKey: readFileSync(join(tlsDir, 'client.key')),
  /** A server certificate for the name localhost only: not valid for 127.0.0.1. */
  nameOnlyCert: readFileSync(join(tlsDir, 'name-only.crt')),
  nameOnlyKey: readFileSync(join(tlsDir, 'name-only.key')),
};

export interface TestServer {
  server: Server;
  url: string;
  origin: string;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A server on 127.0.0.1 with a random port, closed after the test file. */
export async function startServer(
  handler: Handler,
  options: { https?: https.ServerOptions; checkContinue?: Handler } = {},
): Promise<TestServer> {
  const server = options.https ? https.createServer(options.https, handler) : http.createServer(handler);
  if (options.checkContinue) server.on('checkContinue', options.checkContinue);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `${options.https ? 'https' : 'http'}://127.0.0.1:${port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
  afterAll(close);
  return { server, url: `${origin}/upload`, origin, close };
}

/** Sends a JSON answer with a Content-Length. */
export function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** A real HTTP proxy (the `proxy` package) on 127.0.0.1, noting what it was asked for; closed after the test file. */
export async function startProxy(): Promise<{ url: string; requests: string[] }> {
  const server = createProxy(http.createServer());
  const requests: string[] = [];
  server.on('request', (req: IncomingMessage) => requests.push(`${req.method} ${req.url}`));
  server.on('connect', (req: IncomingMessage) => requests.push(`CONNECT ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}
