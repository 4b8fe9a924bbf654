import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { ServerOptions } from 'node:https';
import { join } from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';
import { afterAll } from 'vitest';
import { startServer } from '../../helpers/servers.js';

export type TusFault =
  | { status: number; retryAfter?: string }
  | { resetAfter: number }
  | { hang: true }
  /** Handled by @tus/server, but its answer never sent; `then` runs once the server has handled it. */
  | { mute: () => void };

export interface TusServer {
  endpoint: string;
  /** Bytes of PATCH bodies received, all attempts together. */
  received: number;
  /** Every request, as "METHOD /files/ID". */
  log: string[];
  fault: (req: IncomingMessage, attempt: number) => TusFault | undefined;
  /** The SHA-256 of the upload stored at `url`. */
  sha256(url: string): string;
  /** The file @tus/server keeps for `url`. */
  fileOf(url: string): string;
  /**
   * Resolves once the stored files stop growing: @tus/server goes on writing what a killed client
   * had sent, and its handle() never settles for a request whose client went away.
   */
  settle(): Promise<void>;
}

/** @tus/server with @tus/file-store (the protocol's own Node server) on 127.0.0.1, faults injected in front of it. */
export async function startTusServer(directory: string, options: { https?: ServerOptions } = {}): Promise<TusServer> {
  const tus = new Server({
    path: '/files',
    // Over TLS, @tus/server would name the upload http://: a Location relative to the endpoint keeps https.
    relativeLocation: options.https !== undefined,
    datastore: new FileStore({ directory }),
  });
  const attempts = new Map<string, number>();
  const state: TusServer = {
    endpoint: '',
    received: 0,
    log: [],
    fault: () => undefined,
    fileOf: (url) => join(directory, new URL(url).pathname.split('/').pop()!),
    sha256: (url) =>
      createHash('sha256')
        .update(readFileSync(state.fileOf(url)))
        .digest('hex'),
    settle: async () => {
      const sizes = () =>
        readdirSync(directory)
          .map((name) => `${name}:${statSync(join(directory, name)).size}`)
          .join();
      let before = sizes();
      for (let i = 0; i < 200; i++) {
        await sleep(25);
        const now = sizes();
        if (now === before) return;
        before = now;
      }
      throw new Error('the tus server kept writing');
    },
  };
  const server = await startServer((req: IncomingMessage, res: ServerResponse) => {
    state.log.push(`${req.method} ${req.url}`);
    const key = `${req.method} ${req.url}`;
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    const fault = state.fault(req, attempt);
    if (fault && 'hang' in fault) return void req.resume();
    if (fault && 'status' in fault) {
      req.resume();
      res.writeHead(fault.status, {
        'tus-resumable': '1.0.0',
        ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}),
      });
      return void res.end();
    }
    if (req.method === 'PATCH') {
      // Counted on the socket: a 'data' listener on the request would take chunks @tus/server must read.
      const socket = req.socket;
      const from = socket.bytesRead;
      const count = () => {
        if (fault && 'resetAfter' in fault && socket.bytesRead - from >= fault.resetAfter) socket.destroy();
      };
      socket.on('data', count);
      res.once('close', () => {
        socket.off('data', count);
        state.received += socket.bytesRead - from;
      });
    }
    if (fault && 'mute' in fault) {
      // The answer is written to a socket that sends nothing: the client never learns the piece was stored.
      req.socket.write = (() => true) as typeof req.socket.write;
      tus.once('POST_FINISH', () => setImmediate(fault.mute));
    }
    tus.handle(req, res).catch(() => res.destroy());
  }, options);
  state.endpoint = `${server.origin}/files`;
  return state;
}

/** @tus/server on an HTTP/2 server without TLS (h2c): it answers only clients that speak HTTP/2 at once. */
export async function startH2cTusServer(directory: string) {
  const tus = new Server({ path: '/files', relativeLocation: true, datastore: new FileStore({ directory }) });
  const sessions: http2.ServerHttp2Session[] = [];
  // @tus/server reads Node's compatibility API, which HTTP/2's request and response also offer.
  const handle = tus.handle.bind(tus) as unknown as (req: unknown, res: unknown) => Promise<void>;
  const server = http2.createServer((req, res) => void handle(req, res).catch(() => res.stream.destroy()));
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.push(session);
    session.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  );
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/files`, sessions };
}
