import net from 'node:net';
import { describe, expect, it } from 'vitest';
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
