import { once } from 'node:events';
import type { Server } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createReceiver } from '../../src/receiver/index.js';
import { guardWrites } from '../../src/receiver/stall.js';

const MiB = 1024 * 1024;

/** A server on 127.0.0.1 whose connections are handed to `onSocket`; closed after the test. */
async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        (server as Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** A client that connects and never reads a byte (its socket paused), destroyed after the test. */
function silentClient(port: number): Socket {
  const client = net.connect(port, '127.0.0.1');
  client.pause();
  client.on('error', () => {});
  onTestFinished(() => void client.destroy());
  return client;
}

/** Whether `socket` closes within `ms`. */
async function closesWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return true;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const closed = once(socket, 'close').then(() => true);
  try {
    return await Promise.race([closed, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('guardWrites: a connection whose answer cannot be written is ended; one read slowly is not', () => {
  // 20 MiB: more than the system's buffers take for a client that never reads (about 4 MiB on Linux).
  const answer = Buffer.alloc(20 * MiB, 'a');

  it('a client that never reads: destroyed once no byte has left for the time given', async () => {
    let serverSide: Socket | undefined;
    const server = net.createServer((socket) => {
      serverSide = socket;
      socket.on('error', () => {});
      socket.write(answer);
      guardWrites(socket, 200);
    });
    silentClient(await listen(server));
    await once(server, 'connection');
    expect(await closesWithin(serverSide!, 3000)).toBe(true);
  });

  it('a client that reads steadily, the whole taking longer than the bound: every byte arrives', async () => {
    const answer8 = answer.subarray(0, 8 * MiB);
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.end(answer8);
      guardWrites(socket, 1000);
    });
    const client = silentClient(await listen(server));
    let received = 0;
    // At most 64 KiB every 10 ms (a paused socket holds less): over a second for the whole. The
    // system takes the answer from the process in steps (when a third of its buffer has gone), a
    // few hundred ms apart at this pace: under the bound.
    const reader = setInterval(() => {
      const chunk = (client.read(64 * 1024) ?? client.read()) as Buffer | null;
      if (chunk !== null) received += chunk.length;
    }, 10);
    onTestFinished(() => clearInterval(reader));
    await once(client, 'end');
    expect(received).toBe(answer8.length);
  });

  it('nothing waiting to be written: no watch, the connection is left to the server', async () => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      guardWrites(socket, 50);
    });
    const client = silentClient(await listen(server));
    await once(server, 'connection');
    expect(await closesWithin(client, 300)).toBe(false);
  });
});

describe('createReceiver: a client that pipelines requests and never reads the answers is ended', () => {
  it('the connection is closed within a bound of idleTimeoutMs, and the server goes on answering', async () => {
    const server = createReceiver({ idleTimeoutMs: 200 });
    const port = await listen(server);
    const sockets: Socket[] = [];
    server.on('connection', (socket: Socket) => sockets.push(socket));
    // Reports of about 600 KB each (1,000 parts with 200-character names and filenames), 16 of them:
    // more than the system's buffers hold for a client that does not read.
    const B = 'b';
    const name = 'n'.repeat(200);
    const one = `--${B}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}"\r\n\r\nx\r\n`;
    const body = `${one.repeat(1000)}--${B}--\r\n`;
    const request = `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${B}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const client = silentClient(port);
    for (let i = 0; i < 16; i++) client.write(request);
    await once(server, 'connection');
    expect(await closesWithin(sockets[0]!, 5000)).toBe(true);
    const answer = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'hi' });
    expect(answer.status).toBe(200);
  }, 15_000);
});
