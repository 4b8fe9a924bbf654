import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { retryFor } from '../../src/cli/retry.js';
import { DEFAULT_RETRY_STATUSES } from '../../src/http/retry.js';
import type { RetryOptions } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { json, startServer } from '../helpers/servers.js';

/** A server that answers each request with the next status of `statuses` (the last one repeats). */
async function statuses(...list: number[]) {
  const seen: string[] = [];
  const server = await startServer((req, res) => {
    seen.push(req.method!);
    req.resume();
    req.on('end', () => json(res, list[Math.min(seen.length, list.length) - 1]!, { n: seen.length }));
  });
  return { url: server.url, seen };
}

describe("--retry and friends, with curl's meanings", () => {
  it('--retry 2 retries a 503 (a POST too: the body is re-sent whole) and says so on stderr', async () => {
    const { url, seen } = await statuses(503, 200);
    const result = await runCli(['--retry', '2', '--retry-delay', '0.001', '-F', 'a=b', url]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ n: 2 });
    expect(seen).toEqual(['POST', 'POST']);
    expect(result.stderr).toBe('multipart-poster: attempt 1 failed (HTTP 503); retrying in 1 ms, 1 retry left\n');
  });

  it('without --retry, or on a status that is not transient, nothing is retried', async () => {
    const first = await statuses(503, 200);
    expect((await runCli(['-F', 'a=b', first.url])).code).toBe(0);
    expect(first.seen).toHaveLength(1);
    const second = await statuses(404, 200);
    expect((await runCli(['--retry', '3', '--retry-delay', '0.001', '-f', '-F', 'a=b', second.url])).code).toBe(22);
    expect(second.seen).toHaveLength(1);
  });

  it('--retry-all-errors with -f retries a 404; the last answer decides the exit code', async () => {
    const { url, seen } = await statuses(404);
    const result = await runCli([
      '--retry',
      '2',
      '--retry-all-errors',
      '--retry-delay',
      '0.001',
      '-f',
      '-F',
      'a=b',
      url,
    ]);
    expect(result.code).toBe(22);
    expect(seen).toHaveLength(3);
  });

  it('a reset is retried only with --retry-all-errors; a refused connection with --retry-connrefused', async () => {
    let connections = 0;
    const resetting = net.createServer((socket) => {
      connections++;
      socket.once('data', () => socket.resetAndDestroy());
    });
    await new Promise<void>((resolve) => resetting.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(resetting.address() as net.AddressInfo).port}/`;
    try {
      expect((await runCli(['--retry', '2', '--retry-delay', '0.001', '-F', 'a=b', url])).code).toBe(56);
      expect(connections).toBe(1);
      expect(
        (await runCli(['--retry', '2', '--retry-all-errors', '--retry-delay', '0.001', '-F', 'a=b', url])).code,
      ).toBe(56);
      expect(connections).toBe(4);
    } finally {
      resetting.close();
    }
    const refused = await runCli(['--retry', '1', '--retry-connrefused', '--retry-delay', '0.001', '-F', 'a=b', url]);
    expect(refused.code).toBe(7);
    expect(refused.stderr).toContain('attempt 1 failed (ECONNREFUSED)');
  });

  it('--retry-max-time stops retrying once the time is up', async () => {
    const { url, seen } = await statuses(503);
    const result = await runCli(['--retry', '50', '--retry-delay', '0.2', '--retry-max-time', '0.5', '-F', 'a=b', url]);
    expect(result.code).toBe(0);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.length).toBeLessThan(10);
  });
});

describe("retryFor(): curl's --retry rules as upload()'s retry option", () => {
  const io = (isTTY: boolean) => {
    const lines: string[] = [];
    return {
      io: {
        stdout: process.stdout,
        stderr: { isTTY, write: (line: string) => lines.push(line) } as unknown as NodeJS.WriteStream,
      },
      lines,
    };
  };
  const args = {
    retry: 3,
    retryDelayMs: undefined,
    retryMaxTimeMs: undefined,
    retryAllErrors: false,
    retryConnrefused: false,
    fail: false,
    method: undefined,
  };

  it("leaves the statuses to upload(): its defaults are the list (and curl's: 408 429 500 502 503 504)", () => {
    const options = retryFor(args, io(false).io) as RetryOptions;
    expect(options.statusCodes).toBeUndefined();
    expect(DEFAULT_RETRY_STATUSES).toEqual([408, 429, 500, 502, 503, 504]);
    expect(options).toMatchObject({ limit: 3, methods: ['POST'], errorCodes: ['ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'] });
  });

  it('--retry-all-errors: every failure of the connection; with -f every status of 400 or more', () => {
    const all = retryFor({ ...args, retryAllErrors: true }, io(false).io) as RetryOptions;
    expect(all).toMatchObject({ errorCodes: 'any' });
    expect(all.statusCodes).toBeUndefined();
    const withFail = retryFor({ ...args, retryAllErrors: true, fail: true }, io(false).io) as RetryOptions;
    expect(withFail.statusCodes).toEqual(Array.from({ length: 200 }, (_, i) => 400 + i));
    expect(retryFor({ ...args, retryConnrefused: true, method: 'PUT' }, io(false).io)).toMatchObject({
      methods: ['PUT'],
      errorCodes: ['ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED'],
    });
  });

  it('without --retry nothing is retried; the wait doubles from 1 s up to 10 minutes, or is --retry-delay', () => {
    expect(retryFor({ ...args, retry: 0 }, io(false).io)).toBe(0);
    const backoff = (retryFor(args, io(false).io) as RetryOptions).backoff as (attempt: number) => number;
    expect([1, 2, 3, 10, 11, 50].map(backoff)).toEqual([1000, 2000, 4000, 512_000, 600_000, 600_000]);
    const fixed = (retryFor({ ...args, retryDelayMs: 250 }, io(false).io) as RetryOptions).backoff as (
      attempt: number,
    ) => number;
    expect([1, 5].map(fixed)).toEqual([250, 250]);
  });

  it('announces each retry in one line, clearing a progress bar first on a terminal', () => {
    for (const isTTY of [false, true]) {
      const { io: streams, lines } = io(isTTY);
      const onRetry = (retryFor(args, streams) as RetryOptions).onRetry!;
      onRetry({ attempt: 1, reason: 503, status: 503, error: undefined, delay: 1000, url: 'http://x/' });
      onRetry({ attempt: 2, reason: 'ETIMEDOUT', status: undefined, error: undefined, delay: 1500, url: 'http://x/' });
      const clear = isTTY ? '\r\x1b[K' : '';
      expect(lines).toEqual([
        `${clear}multipart-poster: attempt 1 failed (HTTP 503); retrying in 1 s, 2 retries left\n`,
        `${clear}multipart-poster: attempt 2 failed (ETIMEDOUT); retrying in 1.5 s, 1 retry left\n`,
      ]);
    }
  });
});

describe("the statuses --retry retries are upload()'s defaults", () => {
  it.each(DEFAULT_RETRY_STATUSES)('%i is retried', async (status) => {
    const { url, seen } = await statuses(status, 200);
    const result = await runCli(['--retry', '1', '--retry-delay', '0.001', '-F', 'a=b', url]);
    expect(result.code).toBe(0);
    expect(seen).toHaveLength(2);
  });

  it.each([400, 404, 501, 505, 520])('%i is not', async (status) => {
    const { url, seen } = await statuses(status, 200);
    await runCli(['--retry', '1', '--retry-delay', '0.001', '-F', 'a=b', url]);
    expect(seen).toHaveLength(1);
  });
});
