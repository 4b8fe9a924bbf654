import type { Http2Session } from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConnectOptions } from '../../../src/http/h2/connect.js';
import { poolKey } from '../../../src/http/h2/pool.js';
import { rawBody } from '../../../src/multipart/encode.js';
import { bytes } from '../../helpers/files.js';
import { receive, startH2Server, type Received } from '../../helpers/h2.js';
import { startProxy, startServer, tls } from '../../helpers/servers.js';
import { post, send, testPool, text, trustTestCa, until } from './client.js';

/** A stream handler that counts the streams open at once, then receives. */
function counting() {
  const counts = { open: 0, most: 0 };
  return {
    counts,
    handler: (stream: Parameters<typeof receive>[0], headers: Parameters<typeof receive>[1]) => {
      counts.most = Math.max(counts.most, ++counts.open);
      stream.once('close', () => counts.open--);
      receive(stream, headers);
    },
  };
}

const hasRef = (session: Http2Session) =>
  (session.socket as unknown as { _handle?: { hasRef(): boolean } })._handle?.hasRef();

describe('one session per origin, a cap on streams', () => {
  it('60 uploads at once with maxStreams 4: one session, never more than 4 streams open, all whole', async () => {
    const pool = testPool({ maxStreams: 4 });
    const { counts, handler } = counting();
    const server = await startH2Server(handler);
    const results = await Promise.all(
      Array.from(
        { length: 60 },
        async (_, i) => (await post<Received>(pool, server.url, await rawBody(bytes(i * 1000)))).json,
      ),
    );
    expect(results.map((result) => result.size)).toEqual(Array.from({ length: 60 }, (_, i) => i * 1000));
    expect(counts.most).toBeLessThanOrEqual(4);
    expect(counts.most).toBeGreaterThan(1);
    expect(server.sessions).toHaveLength(1);
  });

  it("the server's own limit (MAX_CONCURRENT_STREAMS 2) is kept: no stream refused", async () => {
    const pool = testPool();
    const { counts, handler } = counting();
    const server = await startH2Server(handler, { settings: { maxConcurrentStreams: 2 } });
    const sizes = await Promise.all(
      Array.from(
        { length: 20 },
        async () => (await post<Received>(pool, server.url, await rawBody(bytes(50_000)))).json.size,
      ),
    );
    expect(sizes).toEqual(Array(20).fill(50_000));
    expect(counts.most).toBeLessThanOrEqual(2);
  });

  it('a session with no stream no longer keeps the process alive, and closes after idleMs', async () => {
    const pool = testPool({ idleMs: 50 });
    const server = await startH2Server(receive);
    const answer = await send(pool, server.url, await rawBody(bytes(10)));
    const session = answer.stream.session!;
    expect(hasRef(session)).toBe(true); // a stream is open: the upload keeps the process alive
    await text(answer);
    await until(() => hasRef(session) === false);
    await until(() => session.destroyed && pool.size === 0);
    expect((await post<Received>(pool, server.url, await rawBody(bytes(10)))).json.size).toBe(10);
    expect(server.sessions).toHaveLength(2);
  });

  it('sessions are shared only with the same TLS settings; a CA read again (a new Buffer) still matches', () => {
    const url = new URL('https://127.0.0.1:1/');
    expect(poolKey(url, { ca: tls.ca }, undefined)).toBe(poolKey(url, { ca: Buffer.from(tls.ca) }, undefined));
    expect(poolKey(url, { ca: tls.ca }, undefined)).not.toBe(poolKey(url, undefined, undefined));
    expect(poolKey(url, { ca: tls.ca, cert: tls.clientCert }, undefined)).not.toBe(
      poolKey(url, { ca: tls.ca }, undefined),
    );
    expect(poolKey(url, { ca: tls.ca, rejectUnauthorized: false }, undefined)).not.toBe(
      poolKey(url, { ca: tls.ca }, undefined),
    );
    expect(poolKey(new URL('https://127.0.0.1:2/'), undefined, undefined)).not.toBe(poolKey(url, undefined, undefined));
  });
});

describe('connecting', () => {
  it("'auto' against an HTTP/1.1-only TLS server: HTTP/1.1 with the new socket, then HTTP/1.1 without asking again", async () => {
    const pool = testPool();
    let connections = 0;
    const server = await startServer((_req, res) => res.end('h1'), { https: { cert: tls.cert, key: tls.key } });
    server.server.on('connection', () => connections++);
    const options: ConnectOptions = { mode: 'auto', tls: trustTestCa, tunnel: undefined };
    const signal = new AbortController().signal;
    const first = await pool.acquire(new URL(server.url), options, signal);
    expect(first.protocol).toBe('http/1.1');
    const socket = first.protocol === 'http/1.1' ? first.socket : undefined;
    expect(socket?.alpnProtocol).toBe('http/1.1');
    socket?.destroy();
    await until(() => connections === 1);
    expect(await pool.acquire(new URL(server.url), options, signal)).toEqual({
      protocol: 'http/1.1',
      socket: undefined,
    });
    expect(connections).toBe(1);
  });

  it("'auto' against an HTTP/2 server: HTTP/2", async () => {
    const pool = testPool();
    const server = await startH2Server(receive, { secure: true, allowHTTP1: true });
    expect((await post<Received>(pool, server.url, await rawBody(bytes(7)), { mode: 'auto' })).json.size).toBe(7);
  });

  it('HTTP/2 required against an HTTP/1.1-only TLS server: a typed failure naming ALPN', async () => {
    const pool = testPool();
    const server = await startServer((_req, res) => res.end('h1'), { https: { cert: tls.cert, key: tls.key } });
    // The server's TLS refuses the handshake (no_application_protocol): said as HTTP/2 not spoken.
    await expect(post(pool, server.url, await rawBody(bytes(7)))).rejects.toMatchObject({
      code: 'ERR_REQUEST_FAILED',
      cause: { code: 'ERR_HTTP2_NOT_NEGOTIATED' },
    });
    expect(pool.size).toBe(0);
  });

  it('prior knowledge (h2c) against an HTTP/1.1 server: HTTP/2 not negotiated, nothing left open', async () => {
    const pool = testPool();
    const server = await startServer((_req, res) => res.end('h1'));
    await expect(post(pool, server.url, await rawBody(bytes(7)))).rejects.toMatchObject({
      code: 'ERR_REQUEST_FAILED',
      cause: { code: 'ERR_HTTP2_NOT_NEGOTIATED', cause: { code: 'ERR_HTTP2_ERROR' } },
    });
    expect(pool.size).toBe(0);
  });

  it('a certificate not signed by a CA we trust: the TLS failure, nothing pooled', async () => {
    const pool = testPool();
    const server = await startH2Server(receive, { secure: true });
    await expect(post(pool, server.url, await rawBody(bytes(7)), { tls: {} })).rejects.toMatchObject({
      code: expect.stringMatching(/CERT|SIGNED|VERIFY/),
    });
    expect(pool.size).toBe(0);
  });

  it('an abort while the connection is set up (a server that never answers) cancels it; nothing stays open', async () => {
    const pool = testPool();
    const sockets: net.Socket[] = [];
    const closed: boolean[] = [];
    const silent = net.createServer((socket) => {
      sockets.push(socket);
      closed.push(false);
      socket.on('error', () => {});
      socket.on('close', () => (closed[0] = true));
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    afterAll(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    const controller = new AbortController();
    const other = new AbortController();
    const first = send(pool, url, undefined, { method: 'GET', signal: controller.signal });
    const second = send(pool, url, undefined, { method: 'GET', signal: other.signal });
    await until(() => sockets.length === 1);
    controller.abort(new Error('first gave up'));
    await expect(first).rejects.toThrow('first gave up');
    expect(closed[0]).toBe(false); // the second still waits for it
    other.abort(new Error('second gave up'));
    await expect(second).rejects.toThrow('second gave up');
    await until(() => closed[0] === true);
    expect(pool.size).toBe(0);
  });
});

describe('through a proxy by CONNECT (https-proxy-agent)', () => {
  it('h2 over TLS inside the tunnel: the exact bytes, the proxy saw CONNECT', async () => {
    const proxy = await startProxy();
    const agent = new HttpsProxyAgent(proxy.url);
    const pool = testPool();
    {
      const secure = true;
      const server = await startH2Server(receive, { secure });
      const target = new URL(server.url);
      const signal = new AbortController().signal;
      const acquired = await pool.acquire(
        target,
        { mode: true, tls: secure ? trustTestCa : undefined, tunnel: agent },
        signal,
      );
      expect(acquired.protocol).toBe('h2');
      if (acquired.protocol !== 'h2') return;
      const { sendH2 } = await import('../../../src/http/h2/attempt.js');
      const body = await rawBody(bytes(300_000));
      const answer = await sendH2(acquired.lease, {
        url: target,
        method: 'POST',
        headers: new Headers(body.headers),
        body,
        signal,
        onUploadProgress: undefined,
        onBodySent: undefined,
        maxRate: undefined,
        attempts: [],
      });
      expect(JSON.parse(await text(answer))).toMatchObject({ size: 300_000, contentLength: '300000' });
      expect(proxy.requests).toContain(`CONNECT ${target.host}`);
    }
  });

  it('a proxy that refuses CONNECT: a typed failure naming its answer', async () => {
    const refusing = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n'));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    afterAll(() => new Promise<void>((resolve) => refusing.close(() => resolve())));
    const agent = new HttpsProxyAgent(`http://127.0.0.1:${(refusing.address() as AddressInfo).port}`);
    const pool = testPool();
    const acquiring = pool.acquire(
      new URL('https://127.0.0.1:9/'),
      { mode: true, tls: trustTestCa, tunnel: agent },
      new AbortController().signal,
    );
    await expect(acquiring).rejects.toMatchObject({ code: 'ERR_REQUEST_FAILED', message: /proxy answered 403/ });
  });
});
