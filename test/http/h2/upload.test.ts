import type { ServerHttp2Stream } from 'node:http2';
import https from 'node:https';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { describe, expect, it } from 'vitest';
import { MultipartParam, rawBody, upload, type UploadAttempt } from '../../../src/index.js';
import { bytes, tempDir, writeFile } from '../../helpers/files.js';
import { receive, sha256, startH2Server, type Received } from '../../helpers/h2.js';
import { json, startProxy, startServer, tls } from '../../helpers/servers.js';
import { until } from './client.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const ca = { ca: tls.ca };

/** Answers by path: /r307, /r308, /r303 redirect to /upload; /upload receives; headers are echoed in x-seen. */
function routes(stream: ServerHttp2Stream, headers: Parameters<typeof receive>[1]): void {
  const path = headers[':path'] ?? '';
  const redirect = /^\/r(30[1378])(?:\?to=(.*))?$/.exec(path);
  if (redirect) {
    stream.resume();
    stream.respond({ ':status': Number(redirect[1]), location: decodeURIComponent(redirect[2] ?? '/upload') });
    return void stream.end();
  }
  const seen = JSON.stringify({
    method: headers[':method'],
    authorization: headers.authorization ?? null,
    cookie: headers.cookie ?? null,
  });
  stream.on('data', () => {});
  const hash = new Promise<Received>((resolve) => {
    let size = 0;
    const parts: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      parts.push(chunk);
    });
    stream.on('end', () =>
      resolve({ size, sha256: sha256(Buffer.concat(parts)), contentLength: headers['content-length'] }),
    );
  });
  void hash.then((received) => {
    if (stream.destroyed) return;
    stream.respond({ ':status': 200, 'x-seen': seen, 'content-type': 'application/json' });
    stream.end(JSON.stringify(received));
  });
}

const h2c = await startH2Server(routes);
const h2 = await startH2Server(routes, { secure: true });
const other = await startH2Server(routes, { secure: true }); // another origin (another port)

describe('upload() over HTTP/2', () => {
  for (const [label, server, options] of [
    ['h2c, prior knowledge', h2c, { http2: true }],
    ['h2 on TLS, required', h2, { http2: true, tls: ca }],
    ['h2 on TLS, by ALPN', h2, { http2: 'auto', tls: ca }],
  ] as const) {
    it(`${label}: the form arrives whole with its exact content-length; a WHATWG Response`, async () => {
      const dir = tempDir();
      const file = await MultipartParam.fromFile('file', writeFile(dir, 'f.bin', bytes(MiB + 1, 4)));
      const response = await upload(server.url, { a: 'x', file }, options);
      expect(response).toBeInstanceOf(Response);
      expect(response.status).toBe(200);
      expect(response.statusText).toBe('');
      expect(response.url).toBe(server.url);
      const received = (await response.json()) as Received;
      expect(received.contentLength).toBe(String(received.size));
      expect(received.size).toBeGreaterThan(MiB);
    });
  }

  it('307 and 308 send the same bytes again; 303 turns into a GET without a body', async () => {
    const data = bytes(300 * KiB, 6);
    for (const status of [307, 308]) {
      const response = await upload(`${h2.origin}/r${status}`, await rawBody(data), { http2: true, tls: ca });
      expect(response.redirected).toBe(true);
      expect(await response.json()).toEqual({
        size: data.length,
        sha256: sha256(data),
        contentLength: String(data.length),
      });
    }
    const after303 = await upload(`${h2.origin}/r303`, await rawBody(data), { http2: true, tls: ca });
    expect(JSON.parse(after303.headers.get('x-seen')!).method).toBe('GET');
    expect(await after303.json()).toMatchObject({ size: 0 });
  });

  it('a 307 whose body never ends is let go of (its stream reset) once the upload is over', async () => {
    let closed = false;
    const server = await startH2Server((stream, headers) => {
      stream.resume();
      stream.on('end', () => {
        if (headers[':path'] === '/final') {
          stream.respond({ ':status': 200 });
          return void stream.end('final');
        }
        stream.respond({ ':status': 307, location: '/final' });
        const chunk = Buffer.alloc(16 * KiB, 0x61);
        const pump = () => {
          while (!stream.destroyed && stream.write(chunk));
        };
        stream.on('drain', pump);
        stream.on('close', () => (closed = true));
        pump();
      });
    });
    const response = await upload(server.url, { a: 'b' }, { http2: true, timeout: 60_000 });
    expect(await response.text()).toBe('final');
    await until(() => closed);
  });

  it('credentials are dropped across origins, kept within one', async () => {
    const headers = { authorization: 'Bearer secret', cookie: 'id=1' };
    const same = await upload(`${h2.origin}/r307`, await rawBody(bytes(10)), { http2: true, tls: ca, headers });
    expect(JSON.parse(same.headers.get('x-seen')!)).toMatchObject(headers);
    await same.body?.cancel();
    const to = encodeURIComponent(other.url);
    const away = await upload(`${h2.origin}/r307?to=${to}`, await rawBody(bytes(10)), {
      http2: true,
      tls: ca,
      headers,
    });
    expect(away.url).toBe(other.url);
    expect(JSON.parse(away.headers.get('x-seen')!)).toMatchObject({ authorization: null, cookie: null });
    await away.body?.cancel();
  });

  it('progress from what the stream accepted, then onBodySent; signal and timeout close the stream, not the session', async () => {
    const streams: ServerHttp2Stream[] = [];
    const server = await startH2Server((stream, headers) => {
      if (headers['x-hold'] === undefined) return receive(stream, headers);
      stream.pause(); // never reads: the window stays shut
      streams.push(stream);
    });
    const events: Array<number | 'sent'> = [];
    const ok = await upload(server.url, await rawBody(bytes(2 * MiB)), {
      http2: true,
      onUploadProgress: (loaded) => events.push(loaded),
      onBodySent: () => events.push('sent'),
    });
    expect((await ok.json()) as Received).toMatchObject({ size: 2 * MiB });
    expect(events.at(-1)).toBe('sent');
    expect(events.at(-2)).toBe(2 * MiB);
    const timedOut = await upload(server.url, await rawBody(bytes(4 * MiB)), {
      http2: true,
      timeout: 300,
      headers: { 'x-hold': '1' },
    }).catch((error: unknown) => error);
    expect(timedOut).toMatchObject({ code: 'ERR_TIMEOUT' });
    const controller = new AbortController();
    const aborted = upload(server.url, await rawBody(bytes(4 * MiB)), {
      http2: true,
      signal: controller.signal,
      headers: { 'x-hold': '1' },
    });
    await until(() => streams.length === 2);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await until(() => streams.every((stream) => stream.closed));
    expect(streams.map((stream) => stream.rstCode)).toEqual([8, 8]);
    expect(
      (await (await upload(server.url, await rawBody(bytes(5)), { http2: true })).json()) as Received,
    ).toMatchObject({
      size: 5,
    });
    expect(server.sessions).toHaveLength(1);
  });

  it('an early 413 stops the body; once its answer is read, the stream ends with RST_STREAM NO_ERROR', async () => {
    const streams: ServerHttp2Stream[] = [];
    const server = await startH2Server((stream) => {
      streams.push(stream);
      stream.pause();
      stream.respond({ ':status': 413 });
      stream.write('too large');
      setImmediate(() => stream.end());
    });
    let loaded = 0;
    const response = await upload(server.url, await rawBody(bytes(16 * MiB)), {
      http2: true,
      onUploadProgress: (bytesSoFar) => (loaded = bytesSoFar),
    });
    expect(response.status).toBe(413);
    expect(await response.text()).toBe('too large');
    await until(() => streams[0]!.closed);
    expect(streams[0]!.rstCode).toBe(0);
    expect(loaded).toBeLessThan(MiB);
  });

  it('an abort while the answer is read reaches the reader as ERR_ABORTED', async () => {
    const server = await startH2Server((stream) => {
      stream.resume();
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.write('first');
      });
    });
    const controller = new AbortController();
    const response = await upload(server.url, await rawBody(bytes(10)), { http2: true, signal: controller.signal });
    const reader = response.body!.getReader();
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('first');
    controller.abort();
    await expect(reader.read()).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});

describe('retries over HTTP/2', () => {
  it('REFUSED_STREAM: a POST is sent again (the request was not processed), reason REFUSED_STREAM', async () => {
    let calls = 0;
    const server = await startH2Server((stream, headers) => {
      if (++calls === 1) return void stream.close(7);
      receive(stream, headers);
    });
    const retries: UploadAttempt[] = [];
    const response = await upload(server.url, await rawBody(bytes(1000)), {
      http2: true,
      retry: { backoff: 1, onRetry: (info) => retries.push(info) },
    });
    expect(((await response.json()) as Received).size).toBe(1000);
    expect(retries.map((info) => info.reason)).toEqual(['REFUSED_STREAM']);
  });

  it('a GOAWAY before the stream: a POST is sent again on a new session', async () => {
    const server = await startH2Server(receive, {
      onSession: (session) => {
        if (server.sessions.length === 1) session.goaway();
      },
    });
    const retries: UploadAttempt[] = [];
    const response = await upload(server.url, await rawBody(bytes(1000)), {
      http2: true,
      retry: { onRetry: (info) => retries.push(info) },
    });
    expect(((await response.json()) as Received).size).toBe(1000);
    // Sent again at once: a connection going away is no sign of load.
    expect(retries.map(({ reason, delay }) => ({ reason, delay }))).toEqual([{ reason: 'GOAWAY', delay: 0 }]);
  });

  it('retry: 0 leaves a refused stream failed, typed; a stream reset mid-body (INTERNAL_ERROR) is a POST never retried', async () => {
    const server = await startH2Server((stream, headers) => {
      const code = Number(headers['x-code']);
      stream.once('data', () => stream.close(code));
    });
    await expect(
      upload(server.url, await rawBody(bytes(100 * KiB)), { http2: true, retry: 0, headers: { 'x-code': '7' } }),
    ).rejects.toMatchObject({ code: 'ERR_REQUEST_FAILED', cause: { code: 'REFUSED_STREAM' } });
    const onRetry = () => {
      throw new Error('no retry expected');
    };
    await expect(
      upload(server.url, await rawBody(bytes(100 * KiB)), {
        http2: true,
        retry: { onRetry },
        headers: { 'x-code': '2' },
      }),
    ).rejects.toMatchObject({ code: 'ERR_REQUEST_FAILED', cause: { code: 'INTERNAL_ERROR' } });
  });

  it('a 503 is retried for a PUT, as over HTTP/1.1', async () => {
    let calls = 0;
    const server = await startH2Server((stream, headers) => {
      if (++calls > 1) return receive(stream, headers);
      stream.resume();
      stream.respond({ ':status': 503 });
      stream.end();
    });
    const response = await upload(server.url, await rawBody(bytes(10)), {
      http2: true,
      method: 'PUT',
      retry: { backoff: 1 },
    });
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });
});

describe('choosing the protocol', () => {
  it("'auto' over http: and against an HTTP/1.1-only https: server is HTTP/1.1", async () => {
    const plain = await startServer((req, res) => {
      req.resume();
      req.on('end', () => json(res, 200, { version: req.httpVersion }));
    });
    const secure = await startServer(
      (req, res) => {
        req.resume();
        req.on('end', () => json(res, 200, { version: req.httpVersion }));
      },
      { https: { cert: tls.cert, key: tls.key } },
    );
    for (const [url, options] of [
      [plain.url, { http2: 'auto' }],
      [secure.url, { http2: 'auto', tls: ca }],
      [secure.url, { http2: 'auto', tls: ca }], // the answer is remembered
    ] as const) {
      expect(await (await upload(url, await rawBody(bytes(3)), options)).json()).toEqual({ version: '1.1' });
    }
  });

  it('http2: true against an HTTP/1.1 server, directly or by a 307: ERR_HTTP2_NOT_NEGOTIATED', async () => {
    const plain = await startServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('h1'));
    });
    const notNegotiated = { code: 'ERR_REQUEST_FAILED', cause: { code: 'ERR_HTTP2_NOT_NEGOTIATED' } };
    const options = { http2: true, retry: 0 } as const;
    await expect(upload(plain.url, await rawBody(bytes(3)), options)).rejects.toMatchObject(notNegotiated);
    const toPlain = `${h2c.origin}/r307?to=${encodeURIComponent(plain.url)}`;
    await expect(upload(toPlain, await rawBody(bytes(3)), options)).rejects.toMatchObject(notNegotiated);
  });

  it('a plain agent: HTTP/1.1 through it under auto; refused with http2: true', async () => {
    const secure = await startServer(
      (req, res) => {
        req.resume();
        req.on('end', () => json(res, 200, { version: req.httpVersion }));
      },
      { https: { cert: tls.cert, key: tls.key } },
    );
    const agent = new https.Agent({ keepAlive: true, ca: tls.ca });
    const response = await upload(secure.url, await rawBody(bytes(3)), { http2: 'auto', agent });
    expect(await response.json()).toEqual({ version: '1.1' });
    await until(() => Object.keys(agent.freeSockets).length === 1); // the agent's socket, kept alive
    await expect(upload(h2.url, await rawBody(bytes(3)), { http2: true, agent, tls: ca })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
    agent.destroy();
  });

  it('through a proxy by CONNECT (HttpsProxyAgent): h2 inside the tunnel', async () => {
    const proxy = await startProxy();
    const agent = new HttpsProxyAgent(proxy.url);
    const data = bytes(200 * KiB, 9);
    const response = await upload(h2.url, await rawBody(data), { http2: true, agent, tls: ca });
    expect(await response.json()).toEqual({
      size: data.length,
      sha256: sha256(data),
      contentLength: String(data.length),
    });
    expect(proxy.requests).toContain(`CONNECT ${new URL(h2.url).host}`);
  });

  it('bad http2 and maxRate values are ERR_INVALID_OPTION', async () => {
    for (const options of [
      { http2: 'yes' },
      { http2: 1 },
      { http2: null },
      { maxRate: 0 },
      { maxRate: -1 },
      { maxRate: 1.5 },
      { maxRate: NaN },
      { maxRate: Infinity },
      { maxRate: 2 ** 53 },
      { maxRate: '100k' },
      { maxrate: 10 },
      { HTTP2: true },
    ]) {
      await expect(upload(h2c.url, { a: 'b' }, options as never)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    }
  });
});

describe('maxRate', () => {
  for (const [label, server, options] of [
    ['HTTP/1.1', undefined, {}],
    ['HTTP/2', h2c, { http2: true }],
  ] as const) {
    it(`${label}: never faster than the rate allows, progress still told per piece`, async () => {
      const plain = await startServer((req, res) => {
        req.resume();
        req.on('end', () => json(res, 200, {}));
      });
      const rate = 64 * KiB;
      const size = 48 * KiB;
      let calls = 0;
      const started = performance.now();
      const response = await upload(server?.url ?? plain.url, await rawBody(bytes(size)), {
        ...options,
        maxRate: rate,
        onUploadProgress: () => calls++,
      });
      const elapsed = performance.now() - started;
      await response.body?.cancel();
      // The first piece (50 ms of the rate) goes at once, the rest on the rate's schedule: a lower bound only.
      const piece = (rate * 50) / 1000;
      expect(elapsed).toBeGreaterThanOrEqual(((size - piece) * 1000) / rate - 5);
      expect(calls).toBeGreaterThanOrEqual(size / piece - 1);
    });
  }
});
