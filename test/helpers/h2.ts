import { createHash } from 'node:crypto';
import http2, {
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type SecureServerOptions,
  type ServerHttp2Session,
  type ServerHttp2Stream,
  type Settings,
} from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';
import { tls } from './servers.js';

export interface H2TestServer {
  server: Http2Server | Http2SecureServer;
  origin: string;
  url: string;
  /** Every session the server accepted, in order. */
  sessions: ServerHttp2Session[];
  close(): Promise<void>;
}

export type StreamHandler = (
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  session: ServerHttp2Session,
) => void;

/**
 * A Node http2 server on 127.0.0.1 (h2c, or TLS with the test CA's certificate and ALPN h2 only),
 * closed after the test file with every session it accepted. Errors on its streams and sessions are
 * the point of these tests: they are swallowed here, never crash the run.
 */
export async function startH2Server(
  handler: StreamHandler,
  options: {
    secure?: boolean;
    settings?: Settings;
    allowHTTP1?: boolean;
    onSession?: (session: ServerHttp2Session) => void;
  } = {},
): Promise<H2TestServer> {
  const sessions: ServerHttp2Session[] = [];
  const secureOptions: SecureServerOptions = {
    cert: tls.cert,
    key: tls.key,
    ...(options.allowHTTP1 ? { allowHTTP1: true } : {}),
    ...(options.settings ? { settings: options.settings } : {}),
  };
  const server = options.secure
    ? http2.createSecureServer(secureOptions)
    : http2.createServer(options.settings ? { settings: options.settings } : {});
  server.on('session', (session: ServerHttp2Session) => {
    sessions.push(session);
    session.on('error', () => {});
    options.onSession?.(session);
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => {});
    handler(stream, headers, stream.session as ServerHttp2Session);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `${options.secure ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const session of sessions) session.destroy();
      server.close(() => resolve());
    });
  afterAll(close);
  return { server, origin, url: `${origin}/upload`, sessions, close };
}

/** What a stream's request body was: its size, SHA-256, and the request's content-length. */
export interface Received {
  size: number;
  sha256: string;
  contentLength: string | undefined;
}

/** Reads the whole request body, then answers 200 with JSON of what came (Received). */
export function receive(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  const hash = createHash('sha256');
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    hash.update(chunk);
  });
  stream.on('end', () => {
    if (stream.destroyed) return;
    const body = JSON.stringify({ size, sha256: hash.digest('hex'), contentLength: headers['content-length'] });
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(body);
  });
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

// A raw HTTP/2 server, for what Node's own server will not do (a GOAWAY naming no stream after one
// was sent, a flood of SETTINGS): frames written by hand (RFC 9113 §4.1, §6).

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

export function settingsFrame(pairs: Array<[number, number]>, ack = false): Buffer {
  const payload = Buffer.alloc(pairs.length * 6);
  pairs.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, ack ? 1 : 0, 0, payload);
}

export function goawayFrame(lastStreamId: number, code: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(lastStreamId, 0);
  payload.writeUInt32BE(code, 4);
  return frame(FRAME.GOAWAY, 0, 0, payload);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(increment, 0);
  return frame(FRAME.WINDOW_UPDATE, 0, streamId, payload);
}

/** HEADERS with `:status` 200 (HPACK static index 8) and END_STREAM|END_HEADERS. */
export function ok200(streamId: number): Buffer {
  return frame(FRAME.HEADERS, 0x5, streamId, Buffer.from([0x88]));
}

export interface RawFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

export interface RawConnection {
  socket: net.Socket;
  send(...frames: Buffer[]): void;
}

/**
 * A server that reads the client preface and frames, answers the client's SETTINGS with an ACK and
 * calls `onFrame` for every frame. Its flow-control windows are opened wide (DATA never waits on
 * it), unless `initialWindow` is given: then streams start with that window, the connection with
 * the default 65,535 bytes, and only the test's WINDOW_UPDATE frames let more come.
 */
export async function startRawH2Server(
  onFrame: (frame: RawFrame, connection: RawConnection) => void,
  options: { initialWindow?: number } = {},
): Promise<{ origin: string; connections: RawConnection[] }> {
  const connections: RawConnection[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const connection: RawConnection = {
      socket,
      send: (...frames) => {
        if (!socket.destroyed) socket.write(Buffer.concat(frames));
      },
    };
    connections.push(connection);
    if (options.initialWindow === undefined)
      connection.send(settingsFrame([[4, 0x7fffffff]]), windowUpdateFrame(0, 0x7fffffff - 65535));
    else connection.send(settingsFrame([[4, options.initialWindow]]));
    let buffered = Buffer.alloc(0);
    let prefaceSeen = false;
    socket.on('data', (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      if (!prefaceSeen) {
        if (buffered.length < PREFACE.length) return;
        prefaceSeen = true;
        buffered = buffered.subarray(PREFACE.length);
      }
      while (buffered.length >= 9) {
        const length = buffered.readUIntBE(0, 3);
        if (buffered.length < 9 + length) break;
        const parsed: RawFrame = {
          type: buffered[3]!,
          flags: buffered[4]!,
          streamId: buffered.readUInt32BE(5) & 0x7fffffff,
          payload: buffered.subarray(9, 9 + length),
        };
        buffered = buffered.subarray(9 + length);
        if (parsed.type === FRAME.SETTINGS && (parsed.flags & 1) === 0) connection.send(settingsFrame([], true));
        onFrame(parsed, connection);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        for (const { socket } of connections) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections };
}
