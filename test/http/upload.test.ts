import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { multipartEncode, MultipartParam, rawBody, upload, UploadError } from '../../src/index.js';
import { receive, type ReceiptReport } from '../../src/receiver/index.js';
import { bytes, openFilesUnder, tempDir, writeFile } from '../helpers/files.js';
import { json, startServer, tls } from '../helpers/servers.js';

const dir = tempDir();
const MiB = 1024 * 1024;
const payload = bytes(2 * MiB, 11);
const payloadPath = writeFile(dir, 'payload.bin', payload);
const hugePath = writeFile(dir, 'huge.bin', bytes(50 * MiB, 5));
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** What each request to a server looked like. */
interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  report?: ReceiptReport;
}

/** Polls until `done()` holds (failing after 10 s), calling `poke` between tries. */
async function waitFor(done: () => boolean, poke: () => void = () => {}): Promise<void> {
  for (const started = Date.now(); !done(); poke()) {
    if (Date.now() - started > 10_000) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const payloadForm = async () => ({ note: 'hi', file: await MultipartParam.fromFile('file', payloadPath) });

describe('sending', () => {
  it('POSTs by default with an exact length, PUT and PATCH on request, with extra headers', async () => {
    const seen: Seen[] = [];
    const server = await startServer((req, res) =>
      receive(req).then((report) => {
        seen.push({ method: req.method!, path: req.url!, headers: req.headers, report });
        json(res, 201, { ok: true });
      }),
    );
    for (const method of [undefined, 'PUT', 'patch']) {
      const response = await upload(server.url, await payloadForm(), {
        ...(method ? { method } : {}),
        headers: { 'x-trace': 'abc', Authorization: 'Bearer t' },
      });
      expect(response.status).toBe(201);
      expect(await response.json()).toEqual({ ok: true });
    }
    expect(seen.map((s) => s.method)).toEqual(['POST', 'PUT', 'PATCH']);
    for (const { headers, report } of seen) {
      expect(headers['x-trace']).toBe('abc');
      expect(headers.authorization).toBe('Bearer t');
      expect(headers['transfer-encoding']).toBeUndefined();
      expect(report?.lengthMatches).toBe(true);
      expect(report?.parts[1]?.sha256).toBe(sha256(payload));
    }
  });

  it('sends a body of unknown size chunked, and says so', async () => {
    let report: ReceiptReport | undefined;
    const server = await startServer((req, res) => receive(req).then((r) => ((report = r), json(res, 200, {}))));
    const response = await upload(server.url, {
      s: new MultipartParam('s', { fileobj: Readable.from([Buffer.from('abc')]) }),
    });
    await response.body?.cancel();
    expect(report).toMatchObject({ chunked: true, contentLength: null, parts: [{ name: 's', size: 3 }] });
  });

  it('sends a raw file body (a presigned PUT): its type, exact length, no multipart', async () => {
    let report: ReceiptReport | undefined;
    let type: string | undefined;
    const server = await startServer((req, res) => {
      type = req.headers['content-type'];
      void receive(req).then((r) => ((report = r), json(res, 200, {})));
    });
    const jsonPath = writeFile(dir, 'doc.json', '{"raw":true}');
    await (await upload(server.url, await rawBody(jsonPath), { method: 'PUT' })).text();
    expect(type).toBe('application/json');
    expect(report).toMatchObject({
      method: 'PUT',
      chunked: false,
      lengthMatches: true,
      parts: [{ size: 12, sha256: sha256(Buffer.from('{"raw":true}')) }],
    });
  });

  it('rejects a URL it cannot send to', async () => {
    await expect(upload('ftp://127.0.0.1/x', { a: 'b' })).rejects.toMatchObject({ code: 'ERR_INVALID_URL' });
    await expect(upload('not a url', { a: 'b' })).rejects.toMatchObject({ code: 'ERR_INVALID_URL' });
  });

  it('fails clearly when nothing listens', async () => {
    const server = await startServer(() => {});
    const url = server.url;
    await server.close();
    await expect(upload(url, { a: 'b' })).rejects.toMatchObject({
      code: 'ERR_REQUEST_FAILED',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });
});

describe('redirects', () => {
  async function redirectingServer(status: number, hops = 1) {
    const seen: Seen[] = [];
    const server = await startServer((req, res) => {
      const step = Number(new URL(req.url!, 'http://x').searchParams.get('step') ?? 0);
      void receive(req).then((report) => {
        seen.push({ method: req.method!, path: req.url!, headers: req.headers, report });
        if (step < hops) json(res, status, {}, { location: `/upload?step=${step + 1}` });
        else json(res, 200, { final: true });
      });
    });
    return { server, seen };
  }

  it.each([301, 302, 303])(
    '%i turns a POST into a GET without body, Content-Length or Content-Type',
    async (status) => {
      const { server, seen } = await redirectingServer(status);
      const response = await upload(server.url, await payloadForm(), { headers: { 'x-keep': '1' } });
      expect(await response.json()).toEqual({ final: true });
      expect(response.redirected).toBe(true);
      expect(response.url).toBe(`${server.origin}/upload?step=1`);
      expect(seen[0]).toMatchObject({ method: 'POST' });
      expect(seen[1]).toMatchObject({ method: 'GET', report: { bytesReceived: 0 } });
      expect(seen[1]!.headers['content-type']).toBeUndefined();
      expect(seen[1]!.headers['content-length']).toBeUndefined();
      expect(seen[1]!.headers['x-keep']).toBe('1');
    },
  );

  it.each([307, 308])('%i re-sends the same method and the same bytes', async (status) => {
    const { server, seen } = await redirectingServer(status, 2);
    const response = await upload(server.url, await payloadForm(), { method: 'PUT' });
    expect(response.status).toBe(200);
    expect(seen.map((s) => s.method)).toEqual(['PUT', 'PUT', 'PUT']);
    for (const { report } of seen) {
      expect(report).toMatchObject({ lengthMatches: true });
      expect(report?.parts[1]?.sha256).toBe(sha256(payload));
    }
  });

  it("re-sends a caller's own block-sized buffer untouched: only the encoder's file blocks are reused", async () => {
    const { server, seen } = await redirectingServer(307, 1);
    const mine = bytes(1024 * 1024, 77); // exactly one block, sent uncopied
    const before = Buffer.from(mine);
    const form = {
      own: new MultipartParam('own', { value: mine, filename: 'own.bin' }),
      file: await MultipartParam.fromFile('file', payloadPath),
    };
    await (await upload(server.url, form)).text();
    expect(mine.equals(before)).toBe(true);
    for (const { report } of seen) {
      expect(report?.parts.map((p) => p.sha256)).toEqual([sha256(before), sha256(payload)]);
    }
  });

  it('a 303 after a PUT is a GET too; a 301 after a PUT keeps the PUT', async () => {
    const see303 = await redirectingServer(303);
    await (await upload(see303.server.url, { a: 'b' }, { method: 'PUT' })).text();
    expect(see303.seen.map((s) => s.method)).toEqual(['PUT', 'GET']);
    const see301 = await redirectingServer(301);
    await (await upload(see301.server.url, { a: 'b' }, { method: 'PUT' })).text();
    expect(see301.seen.map((s) => s.method)).toEqual(['PUT', 'PUT']);
    expect(see301.seen[1]!.report).toMatchObject({ lengthMatches: true, parts: [{ name: 'a' }] });
  });

  it('a redirect whose body never ends is let go of (its connection closed) once the upload is over', async () => {
    let closed = false;
    const server = await startServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/final') return void res.end('final');
        res.writeHead(307, { location: '/final' });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
        };
        res.on('drain', pump);
        res.on('close', () => (closed = true));
        pump();
      });
    });
    const response = await upload(server.url, { a: 'b' }, { timeout: 60_000 });
    expect(await response.text()).toBe('final');
    await waitFor(() => closed);
  });

  it('a short redirect body, chunked, is read to its end: the connection is used again', async () => {
    const sockets = new Set<unknown>();
    const server = await startServer((req, res) => {
      sockets.add(req.socket);
      req.resume();
      req.on('end', () => {
        if (req.url === '/final') return void res.end('final');
        res.writeHead(307, { location: '/final' });
        res.write('moved ');
        res.end('there');
      });
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    onTestFinished(() => agent.destroy());
    const response = await upload(server.url, { a: 'b' }, { agent });
    expect(await response.text()).toBe('final');
    expect(sockets.size).toBe(1);
  });

  it('stops after the hop limit (default 5) and returns a redirect as it is with maxRedirects 0', async () => {
    const { server } = await redirectingServer(307, 6);
    await expect(upload(server.url, { a: 'b' })).rejects.toMatchObject({ code: 'ERR_TOO_MANY_REDIRECTS' });
    const ok = await upload(server.url, { a: 'b' }, { maxRedirects: 6 });
    expect(ok.status).toBe(200);
    await ok.text();
    const manual = await upload(server.url, { a: 'b' }, { maxRedirects: 0 });
    expect(manual.status).toBe(307);
    expect(manual.headers.get('location')).toBe('/upload?step=1');
    await manual.text();
  });

  it('drops Authorization, Cookie and a Host set by the caller when the redirect leaves the origin, keeps them when it does not', async () => {
    const elsewhere: Seen[] = [];
    const other = await startServer((req, res) => {
      elsewhere.push({ method: req.method!, path: req.url!, headers: req.headers });
      req.resume();
      req.on('end', () => json(res, 200, {}));
    });
    const hops: Seen[] = [];
    const server = await startServer((req, res) => {
      hops.push({ method: req.method!, path: req.url!, headers: req.headers });
      req.resume();
      req.on('end', () =>
        req.url === '/upload'
          ? json(res, 307, {}, { location: '/same' })
          : json(res, 307, {}, { location: `${other.origin}/away` }),
      );
    });
    const response = await upload(
      server.url,
      { a: 'b' },
      { headers: { authorization: 'Bearer secret', cookie: 'sid=1', host: 'api.internal', 'x-other': 'kept' } },
    );
    await response.text();
    expect(hops[1]!.headers).toMatchObject({ authorization: 'Bearer secret', cookie: 'sid=1', host: 'api.internal' });
    expect(elsewhere[0]!.headers.authorization).toBeUndefined();
    expect(elsewhere[0]!.headers.cookie).toBeUndefined();
    expect(elsewhere[0]!.headers.host).toBe(new URL(other.origin).host); // its own, not the first origin's
    expect(elsewhere[0]!.headers['x-other']).toBe('kept');
  });

  it.each<[string, string | undefined, 'stream' | 'bytes', string]>([
    ['a Location that is not http(s)', 'file:///etc/passwd', 'bytes', 'ERR_INVALID_URL'],
    ['one redirect too many', undefined, 'bytes', 'ERR_TOO_MANY_REDIRECTS'],
    ['a 307 after a one-shot stream was sent', '/again', 'stream', 'ERR_BODY_NOT_REPLAYABLE'],
  ])('a redirect refused (%s) lets go of its connection', async (_label, location, body, code) => {
    const server = await startServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/ok') return void json(res, 200, {});
        res.writeHead(307, { location: location ?? req.url! });
        res.end('x'.repeat(100)); // a body, so that the connection is busy until it is read or dropped
      });
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    onTestFinished(() => agent.destroy());
    const form: Record<string, string | MultipartParam> =
      body === 'stream'
        ? { s: new MultipartParam('s', { fileobj: Readable.from([Buffer.from('once')]), filesize: 4 }) }
        : { a: 'b' };
    await expect(upload(server.url, form, { agent, maxRedirects: 3 })).rejects.toMatchObject({ code });
    // The agent's one socket is free again: the next upload through it does not wait for it.
    const next = await upload(`${server.origin}/ok`, { a: 'b' }, { agent, timeout: 2000 });
    expect(next.status).toBe(200);
    await next.text();
  });

  it('refuses to replay a one-shot stream on a 307, saying why', async () => {
    const { server } = await redirectingServer(307);
    const body = { s: new MultipartParam('s', { fileobj: Readable.from([Buffer.from('once')]), filesize: 4 }) };
    await expect(upload(server.url, body)).rejects.toMatchObject({ code: 'ERR_BODY_NOT_REPLAYABLE' });
  });
});

describe('a user name and password in the URL', () => {
  it('go as Basic Authorization, as curl and node:http send them, and nowhere else', async () => {
    const seen: Seen[] = [];
    const server = await startServer((req, res) => {
      seen.push({ method: req.method!, path: req.url!, headers: req.headers });
      req.resume();
      req.on('end', () => json(res, 200, {}));
    });
    const url = new URL(server.url);
    url.username = 'us%C3%A9r';
    url.password = 's:cr%40t';
    const response = await upload(url, { a: 'b' });
    await response.text();
    expect(seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from('usér:s:cr@t').toString('base64')}`);
    expect(response.url).toBe(server.url);
    // The caller's own Authorization wins, as with node:http.
    await (await upload(url, { a: 'b' }, { headers: { authorization: 'Bearer t' } })).text();
    expect(seen[1]!.headers.authorization).toBe('Bearer t');
  });

  it('are not in an error, its url, nor an attempt given to onRetry', async () => {
    const server = await startServer((req, res) => {
      req.resume();
      req.on('end', () => json(res, 503, {}));
    });
    const secret = server.url.replace('http://', 'http://me:hunter2@');
    const seen: string[] = [];
    const error = await upload(
      secret,
      { a: 'b' },
      {
        method: 'PUT',
        retry: { limit: 1, backoff: 0, statusCodes: [503], onRetry: (info) => void seen.push(info.url) },
        timeout: 5000,
      },
    )
      .then((response) => response.text().then(() => ({ url: response.url, message: '' })))
      .catch((e: { url?: string; message: string }) => e);
    expect(JSON.stringify([error.url, error.message, seen])).not.toMatch(/hunter2|me:/);
    const refused = (await upload('http://me:hunter2@127.0.0.1:1/x', { a: 'b' }).catch(
      (e: unknown) => e,
    )) as UploadError;
    expect(refused).toBeInstanceOf(UploadError);
    expect(`${refused.message} ${refused.url}`).not.toMatch(/hunter2/);
    const ftp = (await upload('ftp://me:hunter2@127.0.0.1/x', { a: 'b' }).catch((e: unknown) => e)) as UploadError;
    expect(`${ftp.message} ${ftp.url}`).not.toMatch(/hunter2/);
    // However an unparseable URL is spelt.
    for (const spelling of [
      'http:\\\\me:hunter2@h:99999/',
      'http:/me:hunter2@h:99999/',
      ' http://me:hunter2@h:99999/',
      'http:me:hunter2@h:99999/',
    ]) {
      const invalid = (await upload(spelling, { a: 'b' }).catch((e: unknown) => e)) as UploadError;
      expect(invalid.code).toBe('ERR_INVALID_URL');
      expect(invalid.message).not.toMatch(/hunter2/);
    }
  });
});

describe("a presigned URL's signature", () => {
  it('is not in an error, its url or its stack: a message ends up in a log', async () => {
    const error = (await upload('http://127.0.0.1:1/x?X-Amz-Signature=deadbeef', { a: 'b' }).catch(
      (e: unknown) => e,
    )) as UploadError;
    expect(error.code).toBe('ERR_REQUEST_FAILED');
    expect(error.url).toBe('http://127.0.0.1:1/x?X-Amz-Signature=***');
    expect(`${error.message} ${error.stack}`).toMatch(/X-Amz-Signature=\*\*\*/);
    expect(`${error.message} ${error.stack}`).not.toMatch(/deadbeef/);
  });

  it("is not in what util.inspect shows of an invalid URL's error (console.error prints that), nor its password", async () => {
    for (const url of [
      'http://user:PASSWORD@exa mple.com/?X-Amz-Signature=SECRETSIG',
      'ftp://user:PASSWORD@h/?sig=SECRETSIG',
    ]) {
      const error = (await upload(url, { a: 'b' }).catch((e: unknown) => e)) as UploadError;
      expect(error.code).toBe('ERR_INVALID_URL');
      expect(inspect(error, { depth: 10, showHidden: true })).not.toMatch(/PASSWORD|SECRETSIG/);
    }
  });

  it("stays exact in what retry.onRetry is given, and a redirect's Location reaches its target", async () => {
    const paths: string[] = [];
    const server = await startServer((req, res) => {
      paths.push(req.url!);
      req.resume();
      req.on('end', () => {
        if (req.url!.startsWith('/first')) res.writeHead(307, { location: '/second?X-Amz-Signature=deadbeef2' }).end();
        else json(res, 503, {});
      });
    });
    const seen: string[] = [];
    const response = await upload(
      new URL('/first?X-Amz-Signature=deadbeef1', server.url),
      { a: 'b' },
      {
        method: 'PUT',
        retry: { limit: 1, backoff: 0, statusCodes: [503], onRetry: (info) => void seen.push(info.url) },
      },
    );
    await response.text();
    expect(response.status).toBe(503);
    expect(paths).toEqual([
      '/first?X-Amz-Signature=deadbeef1',
      '/second?X-Amz-Signature=deadbeef2',
      '/second?X-Amz-Signature=deadbeef2',
    ]);
    expect(seen).toEqual([new URL('/second?X-Amz-Signature=deadbeef2', server.url).href]);
  });

  it('is not in the attempts an error lists', async () => {
    const server = await startServer((req) => {
      req.resume();
      req.on('end', () => req.socket.destroy());
    });
    const error = (await upload(
      `${server.url}x?sig=deadbeef`,
      { a: 'b' },
      { method: 'PUT', retry: { limit: 1, backoff: 0, methods: ['PUT'] } },
    ).catch((e: unknown) => e)) as UploadError;
    expect(error.code).toBe('ERR_REQUEST_FAILED');
    expect(error.attempts).toHaveLength(1);
    expect(JSON.stringify({ url: error.url, message: error.message, attempts: error.attempts })).not.toMatch(
      /deadbeef/,
    );
  });
});

describe('an early answer while the body is still going out', () => {
  it.each([413, 401, 403])('resolves with the %i, stops sending a 50 MiB body and closes the file', async (status) => {
    let serverRead = 0;
    const server = await startServer((req, res) => {
      // Answer at once without reading; Node then discards what still arrives.
      req.socket.on('close', () => (serverRead = req.socket.bytesRead));
      json(res, status, { error: 'no' });
    });
    const started = Date.now();
    const response = await upload(
      server.url,
      { file: await MultipartParam.fromFile('file', hugePath) },
      { expectContinue: false },
    );
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ error: 'no' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(openFilesUnder(dir)).toEqual([]);
    await waitFor(() => serverRead > 0);
    expect(serverRead).toBeLessThan(50 * MiB);
  });

  it('resolves when the server answers and then never reads another byte (and never closes)', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.once('data', () => {
        socket.pause(); // the body is never read
        socket.write(
          'HTTP/1.1 413 Payload Too Large\r\ncontent-type: text/plain\r\ncontent-length: 8\r\n\r\ntoo big\n',
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const response = await upload(
        `http://127.0.0.1:${port}/`,
        { file: await MultipartParam.fromFile('file', hugePath) },
        { expectContinue: false },
      );
      expect(response.status).toBe(413);
      expect(await response.text()).toBe('too big\n');
      expect(openFilesUnder(dir)).toEqual([]);
      // the client hangs up the connection it could not finish
      await waitFor(
        () => sockets[0]!.destroyed || sockets[0]!.readableEnded || sockets[0]!.closed,
        () => sockets[0]!.resume(),
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it('resolves with the answer when the server answers and resets the connection at once', async () => {
    const server = await startServer((req, res) => {
      json(res, 413, { error: 'no' });
      res.on('finish', () => req.socket.destroy());
    });
    const outcome = await upload(
      server.url,
      { file: await MultipartParam.fromFile('file', hugePath) },
      { expectContinue: false },
    ).then(
      async (response) => (await response.text(), response.status),
      (error: { code: string }) => error.code,
    );
    // The answer is in the socket before the reset: it is read before the write error is reported.
    expect(outcome).toBe(413);
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('with Expect: 100-continue, a final answer first means no body byte is read at all', async () => {
    let expectHeader: string | undefined;
    const server = await startServer(() => {}, {
      checkContinue: (req, res) => {
        expectHeader = req.headers.expect;
        json(res, 401, { error: 'login first' }, { connection: 'close' });
      },
    });
    let pulled = false;
    const stream = (async function* () {
      pulled = true;
      yield Buffer.alloc(2 * MiB);
    })();
    const response = await upload(server.url, { s: new MultipartParam('s', { fileobj: stream, filesize: 2 * MiB }) });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'login first' });
    expect(expectHeader).toBe('100-continue');
    expect(pulled).toBe(false);
  });
});

describe('Expect: 100-continue', () => {
  async function expectServer() {
    const seen: Array<{ expect: string | undefined; report: ReceiptReport }> = [];
    const server = await startServer((req, res) =>
      receive(req).then((report) => {
        seen.push({ expect: req.headers.expect, report });
        json(res, 200, {});
      }),
    );
    return { server, seen };
  }

  it('is sent above 1 MiB by default, not below, and is configurable', async () => {
    const { server, seen } = await expectServer();
    await (await upload(server.url, await payloadForm())).text(); // 2 MiB
    await (await upload(server.url, { a: 'small' })).text();
    await (await upload(server.url, { a: 'small' }, { expectContinue: true })).text();
    await (await upload(server.url, await payloadForm(), { expectContinue: false })).text();
    await (await upload(server.url, { a: 'x'.repeat(200) }, { expectContinue: 100 })).text();
    expect(seen.map((s) => s.expect)).toEqual(['100-continue', undefined, '100-continue', undefined, '100-continue']);
    expect(seen.every((s) => s.report.lengthMatches)).toBe(true);
  });

  it('sends the body anyway after a bounded wait when the server ignores Expect', async () => {
    let report: ReceiptReport | undefined;
    const server = await startServer(() => {}, {
      // Never answers 100; just reads the body once it comes.
      checkContinue: (req, res) => void receive(req).then((r) => ((report = r), json(res, 200, {}))),
    });
    const started = Date.now();
    const response = await upload(server.url, await payloadForm(), { expectTimeout: 300 });
    expect(response.status).toBe(200);
    await response.text();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(report).toMatchObject({ lengthMatches: true });
    expect(report?.parts[1]?.sha256).toBe(sha256(payload));
  });

  it('a 417 to the expectation: the request goes once more without it (RFC 9110 §10.1.1), as curl does', async () => {
    const seen: Array<string | undefined> = [];
    let report: ReceiptReport | undefined;
    const server = await startServer(
      (req, res) => {
        seen.push(req.headers.expect);
        void receive(req).then((r) => ((report = r), json(res, 200, {})));
      },
      {
        checkContinue: (req, res) => {
          seen.push(req.headers.expect);
          res.writeHead(417, { connection: 'close' }).end();
        },
      },
    );
    const response = await upload(server.url, await payloadForm());
    expect(response.status).toBe(200);
    await response.text();
    expect(seen).toEqual(['100-continue', undefined]);
    expect(report?.parts[1]?.sha256).toBe(sha256(payload));
    // A one-shot stream not read yet (the head waited for 100) goes again too.
    const streamForm = () => ({
      s: new MultipartParam('s', { fileobj: Readable.from([payload]), filesize: payload.length }),
    });
    const again = await upload(server.url, streamForm());
    expect(again.status).toBe(200);
    await again.text();
  });

  it('a 417 after a one-shot stream began to go (the wait for 100 was over) is the answer', async () => {
    const server = await startServer(() => {}, {
      checkContinue: (req, res) => {
        req.resume();
        setTimeout(() => res.writeHead(417, { connection: 'close' }).end(), 300);
      },
    });
    const form = { s: new MultipartParam('s', { fileobj: Readable.from([payload]), filesize: payload.length }) };
    const response = await upload(server.url, form, { expectTimeout: 20 });
    expect(response.status).toBe(417);
    await response.text();
  });
});

describe('abort, timeout and progress', () => {
  /** Reads the body slowly, recording how the request ended. */
  async function slowServer() {
    const ends: string[] = [];
    let read = 0;
    const server = await startServer((req: IncomingMessage, res) => {
      req.on('data', (chunk: Buffer) => {
        read += chunk.length;
        req.pause();
        setTimeout(() => req.resume(), 20);
      });
      req.on('end', () => (ends.push('end'), json(res, 200, {})));
      req.on('aborted', () => ends.push('aborted'));
      req.on('close', () => ends.push('close'));
    });
    return { server, ends, read: () => read };
  }

  it('an AbortSignal destroys the socket, closes the file and rejects with ERR_ABORTED', async () => {
    const { server, ends } = await slowServer();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const form = { file: await MultipartParam.fromFile('file', hugePath) };
    await expect(upload(server.url, form, { signal: controller.signal, expectContinue: false })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
      url: server.url,
    });
    expect(openFilesUnder(dir)).toEqual([]);
    await waitFor(() => ends.includes('close'));
    expect(ends).not.toContain('end');
  });

  it('an already aborted signal sends nothing', async () => {
    const { server, ends } = await slowServer();
    await expect(upload(server.url, { a: 'b' }, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
    expect(ends).toEqual([]);
  });

  it('a timeout aborts with ERR_TIMEOUT, also while the response is awaited', async () => {
    const { server } = await slowServer();
    const form = { file: await MultipartParam.fromFile('file', hugePath) };
    await expect(upload(server.url, form, { timeout: 200, expectContinue: false })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
      url: server.url,
    });
    expect(openFilesUnder(dir)).toEqual([]);
    const silent = await startServer(() => {}); // reads nothing, answers nothing
    // After a redirect, the error names where the upload was going when the time ran out.
    const redirecting = await startServer((req, res) => {
      req.resume();
      req.on('end', () => json(res, 307, {}, { location: `${silent.origin}/there` }));
    });
    await expect(upload(redirecting.url, { a: 'b' }, { timeout: 200 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
      url: `${silent.origin}/there`,
    });
  });

  it('a timeout also covers the response body, like fetch with AbortSignal.timeout', async () => {
    const server = await startServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial'); // and never ends
      });
    });
    const response = await upload(server.url, { a: 'b' }, { timeout: 300 });
    await expect(response.text()).rejects.toBeDefined();
  });

  it('progress follows what the socket accepted, respecting back-pressure, and ends at the total', async () => {
    const { server, read } = await slowServer();
    const calls: Array<[number, number | undefined]> = [];
    let aheadOfServer = 0;
    const response = await upload(server.url, await payloadForm(), {
      expectContinue: false,
      // Several blocks, so the body goes out over several turns: a lone upload's 4 MiB read would
      // hand the kernel the whole 2 MiB file in one write, before the server could read a byte.
      blockSize: 256 * 1024,
      onUploadProgress: (loaded, total) => {
        calls.push([loaded, total]);
        aheadOfServer = Math.max(aheadOfServer, loaded - read());
      },
    });
    await response.text();
    const total = calls[0]![1]!;
    expect(calls.at(-1)).toEqual([total, total]);
    const loads = calls.map((c) => c[0]);
    expect(loads).toEqual([...loads].sort((a, b) => a - b));
    expect(calls.length).toBeGreaterThan(2);
    // never far ahead of what the slow server has read: socket buffers, not the whole body
    expect(aheadOfServer).toBeLessThan(total);
  });

  it('reuses connections through an agent passed in', async () => {
    const ports = new Set<number>();
    const server = await startServer((req, res) => {
      ports.add(req.socket.remotePort!);
      req.resume();
      req.on('end', () => json(res, 200, {}));
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 3; i++) await (await upload(server.url, await payloadForm(), { agent })).text();
    agent.destroy();
    expect(ports.size).toBe(1);
  });
});

describe('keep-alive over TLS', () => {
  it('small uploads one after another keep to one connection, though the answer comes before the last write calls back', async () => {
    // Over TLS a write calls back a turn after its bytes left: a server in another process that
    // answered at once found the body counted as unsent, and its connection was closed after the upload.
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, '..', 'fixtures', 'http', 'tls-counting-server.mjs')],
      {
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      },
    );
    onTestFinished(() => void child.kill());
    const port = await new Promise<string>((resolve) =>
      child.stdout!.once('data', (line: Buffer) => resolve(line.toString().trim())),
    );
    const small = writeFile(dir, 'small.bin', bytes(4096, 3));
    const agent = new https.Agent({ keepAlive: true, maxSockets: 100, ca: tls.ca });
    onTestFinished(() => agent.destroy());
    const options = { agent, tls: { ca: tls.ca } };
    for (let i = 0; i < 200; i++) {
      const form = { file: await MultipartParam.fromFile('file', small) };
      await (await upload(`https://127.0.0.1:${port}/upload`, form, options)).json();
    }
    const count = await upload(`https://127.0.0.1:${port}/connections`, await rawBody(Buffer.alloc(0)), options);
    expect(await count.json()).toEqual({ connections: 1 });
  });
});

describe('faults', () => {
  it('bytes transferred (detached) after their param was made: ERR_SIZE_MISMATCH, nothing sent', async () => {
    let requests = 0;
    const server = await startServer((req, res) => {
      requests++;
      req.resume().on('end', () => res.end('ok'));
    });
    const data = new Uint8Array(1000);
    const param = new MultipartParam('d', { value: data, filename: 'd.bin' });
    structuredClone(data.buffer, { transfer: [data.buffer] });
    await expect(upload(server.url, [param])).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'd' });
    expect(requests).toBe(0);
  });

  it('a server that resets the connection mid-body: a clear error and the file closed', async () => {
    const server = await startServer((req) => {
      let got = 0;
      req.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got > MiB) req.socket.resetAndDestroy();
      });
    });
    const form = { file: await MultipartParam.fromFile('file', hugePath) };
    await expect(upload(server.url, form, { expectContinue: false })).rejects.toMatchObject({
      code: 'ERR_REQUEST_FAILED',
    });
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('a file that changes size mid-upload fails typed (the encoder error is cause) and the server sees an aborted request', async () => {
    const ends: string[] = [];
    const server = await startServer((req, res) => {
      req.resume();
      req.on('end', () => (ends.push('end'), json(res, 200, {})));
      req.on('aborted', () => ends.push('aborted'));
      req.on('error', () => ends.push('error'));
    });
    const path = writeFile(dir, 'shrinking.bin', bytes(8 * MiB));
    const form = await multipartEncode(
      { file: await MultipartParam.fromFile('file', path) },
      { blockSize: 256 * 1024 },
    );
    let truncated = false;
    const pending = upload(server.url, form, {
      expectContinue: false,
      onUploadProgress: (loaded) => {
        if (!truncated && loaded > MiB) {
          truncated = true;
          writeFile(dir, 'shrinking.bin', bytes(2 * MiB));
        }
      },
    });
    await expect(pending).rejects.toMatchObject({
      name: 'UploadError',
      code: 'ERR_SIZE_MISMATCH',
      cause: { name: 'MultipartError', code: 'ERR_SIZE_MISMATCH', paramName: 'file' },
    });
    await waitFor(() => ends.length > 0);
    expect(ends).not.toContain('end');
    expect(openFilesUnder(dir)).toEqual([]);
  });
});
