import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PartsError, tus, uploadParts } from '../../src/index.js';
import { tempDir } from '../helpers/files.js';
import { startTusServer } from './fakes/tus-server.js';
import { KiB, MiB, randomFile } from './helpers.js';

describe('uploadParts with tus against @tus/server', () => {
  it('stores a file in PATCH pieces; no concatenation offered, so one piece at a time', async () => {
    const server = await startTusServer(tempDir());
    const file = randomFile(tempDir(), 'a.bin', 5 * MiB + 17);
    const seen: number[] = [];
    const result = await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint, metadata: { filename: 'a.bin' } }),
      partSize: MiB,
      concurrency: 4,
      store: false,
      onProgress: (loaded) => seen.push(loaded),
    });
    expect(server.sha256(result.url)).toBe(file.sha256);
    expect(result.partials).toEqual([]);
    expect(server.log.filter((l) => l.startsWith('PATCH'))).toHaveLength(6);
    expect(seen.at(-1)).toBe(5 * MiB + 17);
  });

  it('without partSize the upload goes in one PATCH, as tus-js-client sends it', async () => {
    const server = await startTusServer(tempDir());
    const file = randomFile(tempDir(), 'one.bin', 3 * MiB + 1);
    const seen: number[] = [];
    const result = await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint }),
      store: false,
      onProgress: (loaded) => seen.push(loaded),
    });
    expect(server.sha256(result.url)).toBe(file.sha256);
    expect(server.log.filter((l) => l.startsWith('PATCH'))).toHaveLength(1);
    // Progress follows the one piece as it goes out, not only once it is stored.
    expect(seen.filter((loaded) => loaded > 0 && loaded < 3 * MiB + 1).length).toBeGreaterThan(10);
  });

  it('a reset mid-piece: asks the offset (HEAD) and goes on from it, nothing sent twice but what the server lost', async () => {
    const server = await startTusServer(tempDir());
    const file = randomFile(tempDir(), 'b.bin', 4 * MiB);
    let patches = 0;
    server.fault = (req) => (req.method === 'PATCH' && ++patches === 2 ? { resetAfter: 300 * KiB } : undefined);
    const result = await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint }),
      partSize: MiB,
      store: false,
      retry: { limit: 2, backoff: 10 },
    });
    expect(server.sha256(result.url)).toBe(file.sha256);
    expect(server.log.some((l) => l.startsWith('HEAD'))).toBe(true);
    expect(server.received).toBeLessThan(4 * MiB + MiB);
  });

  it('a 503 storm with Retry-After: retried while the policy allows, then refused for good and terminated', async () => {
    const dir = tempDir();
    const server = await startTusServer(dir);
    const file = randomFile(tempDir(), 'c.bin', 2 * MiB);
    server.fault = (req) =>
      req.method === 'PATCH' || req.method === 'HEAD' ? { status: 503, retryAfter: '0' } : undefined;
    const retries: number[] = [];
    const error = (await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint }),
      partSize: MiB,
      store: false,
      retry: { limit: 3, backoff: 10, onRetry: ({ attempt }) => retries.push(attempt) },
    }).catch((e: unknown) => e)) as PartsError;
    expect(error).toBeInstanceOf(PartsError);
    expect(error.code).toBe('ERR_PIECE_FAILED');
    expect(error.status).toBe(503);
    expect(retries).toEqual([1, 2, 3]);
    expect(error.abandoned).toBe(true);
    expect(existsSync(server.fileOf(error.session!))).toBe(false);
  });

  it('a server out of service while a saved session is resumed: the upload and the session kept for the next run', async () => {
    const server = await startTusServer(tempDir());
    const store = join(tempDir(), 'sessions');
    const file = randomFile(tempDir(), 'k.bin', 3 * MiB);
    const protocol = tus({ endpoint: server.endpoint });
    const controller = new AbortController();
    let patches = 0;
    server.fault = (req) =>
      req.method === 'PATCH' && ++patches === 2 ? (controller.abort(), { hang: true }) : undefined;
    const stopped = (await uploadParts(file.path, {
      protocol,
      partSize: MiB,
      store,
      keepSession: true,
      signal: controller.signal,
    }).catch((e: unknown) => e)) as PartsError;
    expect(stopped.code).toBe('ERR_ABORTED');
    server.fault = (req) => (req.method === 'HEAD' ? { status: 503 } : undefined);
    const error = (await uploadParts(file.path, {
      protocol,
      partSize: MiB,
      store,
      retry: { limit: 1, backoff: 1 },
    }).catch((e: unknown) => e)) as PartsError;
    expect(error).toBeInstanceOf(PartsError);
    expect(error.code).toBe('ERR_START_FAILED');
    expect(error.abandoned).toBe(false);
    expect(server.log.some((line) => line.startsWith('DELETE'))).toBe(false);
    server.fault = () => undefined;
    const result = await uploadParts(file.path, { protocol, partSize: MiB, store });
    expect(result.resumedBytes).toBe(MiB);
    expect(server.sha256(result.url)).toBe(file.sha256);
  });

  it('an upload that expired (404): ERR_SESSION_EXPIRED and the session is forgotten', async () => {
    const server = await startTusServer(tempDir());
    const store = join(tempDir(), 'sessions');
    const file = randomFile(tempDir(), 'd.bin', 2 * MiB);
    server.fault = (req) => (req.method === 'PATCH' ? { status: 404 } : undefined);
    const error = (await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint }),
      partSize: MiB,
      store,
    }).catch((e: unknown) => e)) as PartsError;
    expect(error.code).toBe('ERR_SESSION_EXPIRED');
    server.fault = () => undefined;
    const result = await uploadParts(file.path, { protocol: tus({ endpoint: server.endpoint }), partSize: MiB, store });
    expect(result.resumedBytes).toBe(0);
    expect(server.sha256(result.url)).toBe(file.sha256);
  });
});
