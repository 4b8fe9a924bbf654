import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, writeFile } from '../helpers/files.js';
import { startProxy, tls } from '../helpers/servers.js';
import { partsCli } from './cli-run.js';
import { startS3Fake } from './fakes/s3.js';
import { startH2cTusServer, startTusServer } from './fakes/tus-server.js';
import { KiB, MiB, randomFile, sha256, presignedUpload } from './helpers.js';
import { readFileSync, readdirSync } from 'node:fs';

const cli = (args: string[]) => partsCli(args).result;

/** A proxy that refuses every CONNECT with 403, as one whose rules forbid the target. */
async function startRefusingProxy(): Promise<string> {
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (_req, socket: import('node:net').Socket) => {
    socket.on('error', () => {});
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const { url: proxy, requests: asked } = await startProxy();
const caPath = writeFile(tempDir(), 'ca.crt', tls.ca);

describe('the parts command through a proxy, over HTTP/2, at a limited rate', () => {
  it('-x sends every request of a tus upload through the proxy, in absolute-form for http', async () => {
    const server = await startTusServer(tempDir());
    const file = randomFile(tempDir(), 'a.bin', 3 * MiB + 1);
    const before = asked.length;
    const run = await cli(['-x', proxy, '--tus', server.endpoint, '-T', file.path, '--part-size', '1M']);
    expect(run.code, run.stderr).toBe(0);
    expect(server.sha256(run.stdout.trim())).toBe(file.sha256);
    const seen = asked.slice(before);
    const upload = run.stdout.trim();
    expect(seen).toEqual([
      `OPTIONS ${server.endpoint}`,
      `POST ${server.endpoint}`,
      `PATCH ${upload}`,
      `PATCH ${upload}`,
      `PATCH ${upload}`,
      `PATCH ${upload}`,
    ]);
  });

  it('-x tunnels https with CONNECT, --cacert trusted through it', async () => {
    const server = await startTusServer(tempDir(), { https: { cert: tls.cert, key: tls.key } });
    const file = randomFile(tempDir(), 'b.bin', 2 * MiB);
    const before = asked.length;
    const run = await cli(['-x', proxy, '--cacert', caPath, '--tus', server.endpoint, '-T', file.path]);
    expect(run.code, run.stderr).toBe(0);
    expect(server.sha256(run.stdout.trim())).toBe(file.sha256);
    const seen = asked.slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set([`CONNECT ${new URL(server.endpoint).host}`]));
  });

  it('a proxy that refuses the tunnel is exit 56, named, as for a single upload', async () => {
    const refusing = await startRefusingProxy();
    const server = await startTusServer(tempDir(), { https: { cert: tls.cert, key: tls.key } });
    const file = randomFile(tempDir(), 'c.bin', 100 * KiB);
    const run = await cli(['-x', refusing, '--cacert', caPath, '--tus', server.endpoint, '-T', file.path]);
    expect(run.code).toBe(56);
    expect(run.stderr).toContain(`refused the tunnel to ${new URL(server.endpoint).host}: 403 Forbidden`);
    expect(server.log).toEqual([]);
  });

  it('a proxy that refuses the connection is exit 7, named as the proxy, as for a single upload', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = http.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const file = randomFile(tempDir(), 'refused.bin', KiB);
    const run = await cli(['-x', `http://127.0.0.1:${closed}`, '--tus', 'http://127.0.0.1:9/files/', '-T', file.path]);
    expect(run.code, run.stderr).toBe(7);
    // It said "request to http://127.0.0.1:9/files/ failed", as if the tus server had refused.
    expect(run.stderr).toBe(`multipart-poster: start: could not connect to proxy 127.0.0.1:${closed}: ECONNREFUSED\n`);
  });

  it('--http2-prior-knowledge sends every request over one h2c connection; --http1.1 cannot talk to it', async () => {
    const directory = tempDir();
    const server = await startH2cTusServer(directory);
    const file = randomFile(tempDir(), 'd.bin', 3 * MiB + 7);
    const run = await cli(['--http2-prior-knowledge', '--tus', server.endpoint, '-T', file.path, '--part-size', '1M']);
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim().split('/').pop()!;
    expect(sha256(readFileSync(join(directory, id)))).toBe(file.sha256);
    expect(server.sessions).toHaveLength(1);
    const refused = await cli(['--http2', '--http1.1', '--tus', server.endpoint, '-T', file.path, '--retry', '0']);
    expect(refused.code).not.toBe(0);
    expect(readdirSync(directory).filter((name) => !name.endsWith('.json'))).toHaveLength(1);
  });

  it('--limit-rate holds for the pieces in flight together, not for each of them', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'e.bin', 3 * 256 * KiB);
    const { uploadId, urls } = await presignedUpload(fake, 'e.bin', 3);
    const list = writeFile(dir, 'urls.txt', urls.join('\n'));
    const complete = fake.presign('POST', 'e.bin', { uploadId });
    const args = ['--s3-part-urls', list, '--s3-complete', complete, '-T', file.path, '--part-size', '256K'];
    const begun = performance.now();
    const run = await cli([...args, '--parallel', '3', '--limit-rate', '768k']);
    expect(run.code, run.stderr).toBe(0);
    expect(fake.objects.get('e.bin')?.sha256).toBe(file.sha256);
    // Three parts at once, each paced at a third of 768 KiB/s: none can end before about a second
    // (less its first slice); a lower bound only. Each at the whole rate would take a third of that.
    expect(performance.now() - begun).toBeGreaterThanOrEqual(((256 - 13) * 1000) / 256 - 5);
  });
});
