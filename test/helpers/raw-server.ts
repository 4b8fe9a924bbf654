import net from 'node:net';
import { cleanUpAfter } from './cleanup.js';

export interface RawServer {
  url: string;
  port: number;
  /** How many requests reached `answer`. */
  requests(): number;
}

export interface RawServerOptions {
  /** Answer once the whole body (its Content-Length) has arrived, not as soon as the head has. */
  afterBody?: boolean;
  /** Answer on the first bytes, whatever they are (a TLS handshake to a plain server); `head` is then those bytes. */
  atFirstBytes?: boolean;
}

/**
 * A TCP server on 127.0.0.1 that misbehaves as `answer` says: it gets the socket and the request's
 * head (bounded at 64 KiB) and writes, ends, resets or stalls as it likes. Closed, with every socket,
 * when the test (or, made outside one, the file) ends.
 */
export async function rawServer(
  answer: (socket: net.Socket, head: string) => void,
  options: RawServerOptions = {},
): Promise<RawServer> {
  let requests = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    let bodyLeft = -1;
    const respond = () => {
      requests++;
      answer(socket, head);
    };
    const onData = (chunk: Buffer) => {
      if (options.atFirstBytes) {
        head = chunk.toString('latin1');
        socket.off('data', onData);
        return respond();
      }
      if (bodyLeft < 0) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return void (head.length > 64 * 1024 && socket.destroy());
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head.slice(0, end))?.[1] ?? 0);
        bodyLeft = length - (head.length - end - 4);
        head = head.slice(0, end + 4);
        if (/\r\nexpect: *100-continue/i.test(head) && options.afterBody) socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      } else bodyLeft -= chunk.length;
      if (!options.afterBody || bodyLeft <= 0) {
        socket.off('data', onData);
        respond();
      }
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  cleanUpAfter(close);
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}/upload`, port, requests: () => requests };
}

/** A port on 127.0.0.1 that was free a moment ago: for a server to listen on. */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export const closedPort = freePort;
