import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MultipartParam, rawBody, upload, UploadError, type UploadAttempt } from '../../src/index.js';
import { exponentialBackoff, parseRetryAfter } from '../../src/http/retry.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { json, startServer } from '../helpers/servers.js';

const dir = tempDir();
const MiB = 1024 * 1024;
const bigPath = writeFile(dir, 'big.bin', bytes(2 * MiB, 3));
const fast = { backoff: 1 };

/** A server that reads every body, counting its bytes, and lets `act` decide each answer by attempt number (from 1). */
async function scripted(act: (attempt: number, req: IncomingMessage, res: ServerResponse) => boolean | void) {
  const seen: Array<{ method: string; declared: number; received: number; complete: boolean }> = [];
  const server = await startServer((req, res) => {
    const entry = {
      method: req.method!,
      declared: Number(req.headers['content-length']),
      received: 0,
      complete: false,
    };
    seen.push(entry);
    req.on('data', (chunk: Buffer) => (entry.received += chunk.length));
    req.on('error', () => {});
    if (act(seen.length, req, res) === true) return; // act answered (or broke the connection) itself
    req.on('end', () => {
      entry.complete = true;
      json(res, 200, { received: entry.received });
    });
  });
  return { url: server.url, seen };
}

const bigForm = async () => ({ file: await MultipartParam.fromFile('file', bigPath) });

describe('retries', () => {
  it('a 503 then a 200: the PUT is sent again whole, onRetry and progress say so', async () => {
    const { url, seen } = await scripted((attempt, req, res) => {
      if (attempt > 1) return;
      req.resume();
      req.on('end', () => json(res, 503, { busy: true }));
      return true;
    });
    const retries: UploadAttempt[] = [];
    const progress: number[] = [];
    const response = await upload(url, await bigForm(), {
      method: 'PUT',
      retry: { ...fast, onRetry: (info) => retries.push(info) },
      onUploadProgress: (loaded) => progress.push(loaded),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: seen[1]!.declared });
    expect(seen.map((s) => s.method)).toEqual(['PUT', 'PUT']);
    expect(seen[1]!.received).toBe(seen[1]!.declared);
    expect(retries).toMatchObject([{ attempt: 1, reason: 503, status: 503, error: undefined, url }]);
    // progress ran to the end once, then started again from the beginning
    const restart = progress.findIndex((loaded, i) => i > 0 && loaded < progress[i - 1]!);
    expect(restart).toBeGreaterThan(0);
    expect(progress[restart - 1]).toBe(seen[0]!.declared);
    expect(progress.at(-1)).toBe(seen[1]!.declared);
  });

  it('a 429 with Retry-After: 1 waits the second it asks for', async () => {
    const { url, seen } = await scripted((attempt, req, res) => {
      if (attempt > 1) return;
      req.resume();
      req.on('end', () => json(res, 429, {}, { 'retry-after': '1' }));
      return true;
    });
    const delays: number[] = [];
    const response = await upload(
      url,
      { a: 'x' },
      { method: 'PUT', retry: { onRetry: (info) => delays.push(info.delay) } },
    );
    expect(response.status).toBe(200);
    expect(delays).toEqual([1000]);
    expect(seen).toHaveLength(2);
  });

  it('a 503 with Retry-After as an HTTP-date waits until that date', async () => {
    const { url } = await scripted((attempt, req, res) => {
      if (attempt > 1) return;
      req.resume();
      req.on('end', () => json(res, 503, {}, { 'retry-after': new Date(Date.now() + 1000).toUTCString() }));
      return true;
    });
    const delays: number[] = [];
    const response = await upload(
      url,
      { a: 'x' },
      { method: 'PUT', retry: { onRetry: (info) => delays.push(info.delay) } },
    );
    expect(response.status).toBe(200);
    expect(delays[0]).toBeGreaterThanOrEqual(0);
    expect(delays[0]).toBeLessThanOrEqual(1000);
  });

  it('a Retry-After beyond maxRetryAfter: no retry, the answer is returned as it is', async () => {
    const { url, seen } = await scripted((_attempt, req, res) => {
      req.resume();
      req.on('end', () => json(res, 503, {}, { 'retry-after': '120' }));
      return true;
    });
    const response = await upload(url, { a: 'x' }, { method: 'PUT', retry: { maxRetryAfter: 5000 } });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('120');
    expect(seen).toHaveLength(1);
  });

  it('a reset in the middle of the body: the second attempt delivers every byte', async () => {
    const { url, seen } = await scripted((attempt, req) => {
      if (attempt > 1) return;
      let got = 0;
      req.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got > 256 * 1024) req.socket.resetAndDestroy();
      });
      return true;
    });
    const retries: UploadAttempt[] = [];
    const response = await upload(url, await bigForm(), {
      method: 'PUT',
      retry: { ...fast, onRetry: (info) => retries.push(info) },
    });
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(seen[0]!.received).toBeLessThan(seen[0]!.declared);
    expect(seen[1]).toMatchObject({ complete: true, received: seen[1]!.declared });
    expect(retries[0]!.reason).toMatch(/^(ECONNRESET|EPIPE)$/);
    expect(retries[0]!.error).toBeInstanceOf(UploadError);
  });

  it('a POST is not retried by default; it is when POST is listed', async () => {
    const always503 = (_attempt: number, req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => json(res, 503, {}));
      return true;
    };
    const first = await scripted(always503);
    expect((await upload(first.url, { a: 'x' }, { retry: 2 })).status).toBe(503);
    expect(first.seen).toHaveLength(1);
    const second = await scripted(always503);
    expect((await upload(second.url, { a: 'x' }, { retry: { limit: 2, methods: ['post'], ...fast } })).status).toBe(
      503,
    );
    expect(second.seen).toHaveLength(3);
  });

  it("no retry option: got's defaults where the body can be sent again (a PUT twice more; never a POST, never a one-shot stream)", async () => {
    const { url, seen } = await scripted((_attempt, req, res) => {
      req.resume();
      req.on('end', () => json(res, 503, {}));
      return true;
    });
    expect((await upload(url, { a: 'x' }, { method: 'PUT' })).status).toBe(503);
    expect(seen).toHaveLength(3);
    expect((await upload(url, { a: 'x' })).status).toBe(503);
    expect(seen).toHaveLength(4);
    const stream = new MultipartParam('s', { fileobj: Readable.from([Buffer.from('abc')]), filesize: 3 });
    expect((await upload(url, { s: stream }, { method: 'PUT' })).status).toBe(503);
    expect(seen).toHaveLength(5);
  });

  it('a body holding a one-shot stream is never retried: ERR_BODY_NOT_REPLAYABLE says why', async () => {
    const { url, seen } = await scripted((_attempt, req, res) => {
      req.resume();
      req.on('end', () => json(res, 503, {}));
      return true;
    });
    const stream = new MultipartParam('s', { fileobj: Readable.from([Buffer.from('one-shot')]), filesize: 8 });
    const error = (await upload(url, { s: stream }, { method: 'PUT', retry: fast }).catch(
      (e: unknown) => e,
    )) as UploadError;
    expect(error).toBeInstanceOf(UploadError);
    expect(error.code).toBe('ERR_BODY_NOT_REPLAYABLE');
    expect(error.message).toMatch(/answered 503.*one-shot stream/);
    expect(seen).toHaveLength(1);
  });

  it('a one-shot stream cut by a reset: ERR_BODY_NOT_REPLAYABLE with the reset as cause', async () => {
    const { url } = await scripted((_attempt, req) => {
      req.once('data', () => req.socket.resetAndDestroy());
      return true;
    });
    const chunks = Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 1));
    const body = await rawBody(Readable.from(chunks), { size: 64 * 64 * 1024 });
    const error = (await upload(url, body, { method: 'PUT', expectContinue: false, retry: fast }).catch(
      (e: unknown) => e,
    )) as UploadError;
    expect(error.code).toBe('ERR_BODY_NOT_REPLAYABLE');
    expect((error.cause as UploadError).code).toBe('ERR_REQUEST_FAILED');
  });

  it('every attempt and every wait fits in the timeout', async () => {
    const { url, seen } = await scripted((_attempt, req, res) => {
      req.resume();
      req.on('end', () => json(res, 503, {}));
      return true;
    });
    const outcome = await upload(
      url,
      { a: 'x' },
      { method: 'PUT', timeout: 400, retry: { limit: 1000, backoff: 20 } },
    ).then(
      (response) => response.status,
      (error: UploadError) => error.code,
    );
    expect([503, 'ERR_TIMEOUT']).toContain(outcome);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.length).toBeLessThan(1000);
  });

  it('a wait that would end past the timeout is not started: the last failure is final, with every attempt', async () => {
    const server = net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    try {
      const error = (await upload(
        url,
        { a: 'x' },
        { method: 'PUT', timeout: 2000, retry: { limit: 5, backoff: () => 1500 } },
      ).catch((e: unknown) => e)) as UploadError;
      expect(error.code).toBe('ERR_REQUEST_FAILED');
      expect(error.attempts).toHaveLength(1);
      const limited = (await upload(url, { a: 'x' }, { method: 'PUT', retry: { limit: 3, ...fast } }).catch(
        (e: unknown) => e,
      )) as UploadError;
      expect(limited.code).toBe('ERR_REQUEST_FAILED');
      expect(limited.attempts.map((a) => [a.attempt, a.reason])).toEqual([
        [1, 'ECONNRESET'],
        [2, 'ECONNRESET'],
        [3, 'ECONNRESET'],
      ]);
      expect(limited.attempts.every((a) => a.error instanceof UploadError)).toBe(true);
    } finally {
      server.close();
    }
  });

  it('a refused connection is retried; an abort during the wait ends it as ERR_ABORTED with the attempts', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const controller = new AbortController();
    const error = (await upload(
      `http://127.0.0.1:${port}/`,
      { a: 'x' },
      {
        method: 'PUT',
        signal: controller.signal,
        retry: { limit: 5, backoff: 60_000, onRetry: () => setImmediate(() => controller.abort()) },
      },
    ).catch((e: unknown) => e)) as UploadError;
    expect(error.code).toBe('ERR_ABORTED');
    expect(error.attempts.map((a) => a.reason)).toEqual(['ECONNREFUSED']);
  });

  it('an onRetry that throws fails the upload with ERR_CALLBACK_FAILED; a bad backoff return is ERR_INVALID_OPTION', async () => {
    const { url } = await scripted((_attempt, req, res) => {
      req.resume();
      req.on('end', () => json(res, 503, {}));
      return true;
    });
    const thrown = (await upload(
      url,
      { a: 'x' },
      {
        method: 'PUT',
        retry: {
          onRetry: () => {
            throw new Error('boom');
          },
        },
      },
    ).catch((e: unknown) => e)) as UploadError;
    expect(thrown.code).toBe('ERR_CALLBACK_FAILED');
    expect((thrown.cause as Error).message).toBe('boom');
    const badBackoff = (await upload(url, { a: 'x' }, { method: 'PUT', retry: { backoff: () => NaN } }).catch(
      (e: unknown) => e,
    )) as UploadError;
    expect(badBackoff.code).toBe('ERR_INVALID_OPTION');
    expect(badBackoff.message).toMatch(/retry\.backoff/);
    const throwing = (await upload(
      url,
      { a: 'x' },
      {
        method: 'PUT',
        retry: {
          backoff: () => {
            throw new Error('no');
          },
        },
      },
    ).catch((e: unknown) => e)) as UploadError;
    expect(throwing.code).toBe('ERR_CALLBACK_FAILED');
  });

  it('a retried answer with a large body is dropped, never left open', async () => {
    const { url } = await scripted((attempt, req, res) => {
      if (attempt > 1) return;
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-length': String(8 * MiB) });
        res.write(Buffer.alloc(MiB)); // and never the rest
      });
      return true;
    });
    const agent = new http.Agent({ keepAlive: true });
    const response = await upload(url, { a: 'x' }, { method: 'PUT', agent, retry: fast });
    expect(response.status).toBe(200);
    await response.text();
    agent.destroy();
  });
});

describe('Retry-After and backoff', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['0', 0],
    ['1', 1000],
    [' 120 ', 120_000],
    ['Thu, 01 Jan 2026 00:00:05 GMT', 5000],
    ['Wed, 31 Dec 2025 23:00:00 GMT', 0],
    ['Thursday, 01-Jan-26 00:00:05 GMT', 5000],
    ['Thu Jan  1 00:00:05 2026', 5000],
    ['-1', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['', undefined],
  ])('Retry-After %j is %s ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it('the exponential backoff doubles from its base, at most 30 s, with jitter in the upper half', () => {
    expect([1, 2, 3].map((n) => exponentialBackoff(n, 100, () => 0))).toEqual([50, 100, 200]);
    expect([1, 2, 3].map((n) => exponentialBackoff(n, 100, () => 1))).toEqual([100, 200, 400]);
    expect(exponentialBackoff(40, 1000, () => 1)).toBe(30_000);
  });
});

describe('a retried answer is let go of', () => {
  it('one that stalls half way is dropped, its connection closed', async () => {
    let attempts = 0;
    let stalledClosed = false;
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        attempts++;
        if (attempts === 1) {
          socket.on('close', () => (stalledClosed = true));
          socket.write('HTTP/1.1 503 Busy\r\ncontent-length: 10\r\n\r\n12345'); // and never the rest
        } else socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
      const response = await upload(
        url,
        { a: 'b' },
        { method: 'PUT', retry: { limit: 1, backoff: 1 }, expectContinue: false },
      );
      expect(await response.text()).toBe('ok');
      for (let i = 0; i < 100 && !stalledClosed; i++) await new Promise((r) => setTimeout(r, 30));
      expect(stalledClosed).toBe(true);
    } finally {
      server.close();
    }
  });
});
