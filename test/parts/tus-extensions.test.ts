import { describe, expect, it } from 'vitest';
import { PartsError, tus, uploadParts } from '../../src/index.js';
import { tempDir } from '../helpers/files.js';
import { startServer } from '../helpers/servers.js';
import { startTusSpecServer } from './fakes/tus-spec.js';
import { KiB, MiB, randomFile, sha256 } from './helpers.js';

describe('tus extensions where the server offers them', () => {
  it('concatenation: partial uploads in parallel, joined by a final one; Upload-Checksum on each PATCH', async () => {
    const server = await startTusSpecServer();
    const file = randomFile(tempDir(), 'a.bin', 5 * MiB + 3);
    const result = await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint, metadata: { filename: 'a.bin' } }),
      partSize: MiB,
      concurrency: 3,
      store: false,
    });
    expect(result.partials).toHaveLength(3);
    expect(sha256(server.bytes(result.url))).toBe(file.sha256);
    expect(server.log.filter((l) => l.startsWith('POST') && l.endsWith('partial'))).toHaveLength(3);
    expect(server.log.filter((l) => l.includes('final;'))).toHaveLength(1);
  });

  it('a checksum mismatch (460) is ERR_CHECKSUM_MISMATCH and every upload of the session is terminated', async () => {
    const server = await startTusSpecServer();
    const file = randomFile(tempDir(), 'b.bin', 3 * MiB);
    let patches = 0;
    server.corrupt = () => ++patches === 2;
    const error = (await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint }),
      partSize: MiB,
      concurrency: 2,
      store: false,
    }).catch((e: unknown) => e)) as PartsError;
    expect(error.code).toBe('ERR_CHECKSUM_MISMATCH');
    expect(error.abandoned).toBe(true);
    expect(server.uploads.size).toBe(0);
  });

  it('a server that names one upload for every partial upload: ERR_UNEXPECTED_RESPONSE, nothing sent, it terminated', async () => {
    const log: string[] = [];
    const server = await startServer((req, res) => {
      log.push(`${req.method} ${req.url}`);
      const tusHeaders = { 'tus-resumable': '1.0.0', 'tus-version': '1.0.0' };
      if (req.method === 'OPTIONS')
        return void res.writeHead(204, { ...tusHeaders, 'tus-extension': 'creation,concatenation,termination' }).end();
      if (req.method === 'POST') return void res.writeHead(201, { ...tusHeaders, location: '/files/u1' }).end();
      res.writeHead(req.method === 'DELETE' ? 204 : 500, tusHeaders).end();
    });
    const file = randomFile(tempDir(), 'dup.bin', 400 * KiB);
    const error = (await uploadParts(file.path, {
      protocol: tus({ endpoint: `${server.origin}/files/` }),
      partSize: 100 * KiB,
      concurrency: 4,
      store: false,
    }).catch((e: unknown) => e)) as PartsError;
    expect(error).toBeInstanceOf(PartsError);
    expect(error.code).toBe('ERR_UNEXPECTED_RESPONSE');
    expect(error.message).toContain('for two partial uploads');
    expect(log).toEqual(['OPTIONS /files/', 'POST /files/', 'POST /files/', 'DELETE /files/u1']);
  });

  it('a final upload answered 502 by a gateway (made behind it): ERR_COMPLETE_UNKNOWN, the partial uploads kept', async () => {
    const server = await startTusSpecServer();
    server.onFinal = () => 'gateway';
    const file = randomFile(tempDir(), 'gw.bin', 3 * MiB);
    const error = (await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint }),
      partSize: MiB,
      concurrency: 3,
      store: false,
    }).catch((e: unknown) => e)) as PartsError;
    expect(error).toBeInstanceOf(PartsError);
    expect(error.code).toBe('ERR_COMPLETE_UNKNOWN');
    expect(error.status).toBe(502);
    expect(error.abandoned).toBe(false);
    expect(server.log.some((line) => line.startsWith('DELETE'))).toBe(false);
    expect([...server.uploads.values()].filter((upload) => upload.partial)).toHaveLength(3);
  });

  it('parallel: false and checksum: false send one plain upload', async () => {
    const server = await startTusSpecServer();
    const file = randomFile(tempDir(), 'c.bin', 2 * MiB);
    const result = await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint, parallel: false, checksum: false }),
      partSize: MiB,
      concurrency: 4,
      store: false,
    });
    expect(result.partials).toEqual([]);
    expect(sha256(server.bytes(result.url))).toBe(file.sha256);
  });

  it('a server that takes a piece, then loses it, over and over: the lane ends at retry.limit', async () => {
    const server = await startTusSpecServer();
    const file = randomFile(tempDir(), 'd.bin', 192 * KiB);
    let patches = 0;
    // Each second piece loses everything; after 40 PATCHes the server behaves, so a loop shows as a success.
    server.onPatch = (upload) => {
      if (++patches % 2 === 0 && patches < 40) {
        upload.data = [];
        upload.offset = 0;
      }
    };
    const error = (await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint, parallel: false }),
      partSize: 64 * KiB,
      store: false,
      retry: { limit: 2, backoff: 1 },
    }).catch((e: unknown) => e)) as PartsError;
    expect(error).toBeInstanceOf(PartsError);
    expect(error.code).toBe('ERR_PIECE_FAILED');
    // 0 to 64 KiB, lost at 128 KiB, 64 KiB again (no further), lost again: the third round without progress.
    expect(patches).toBe(4);
  });

  it('a reset on the final request: ERR_COMPLETE_UNKNOWN, and the partial uploads are kept', async () => {
    const server = await startTusSpecServer();
    const file = randomFile(tempDir(), 'e.bin', 3 * 64 * KiB);
    server.onFinal = () => 'reset';
    const error = (await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint }),
      partSize: 64 * KiB,
      concurrency: 3,
      store: false,
      retry: 0,
    }).catch((e: unknown) => e)) as PartsError;
    expect(error.code).toBe('ERR_COMPLETE_UNKNOWN');
    expect(error.abandoned).toBe(false);
    expect(server.log.filter((l) => l.startsWith('DELETE'))).toEqual([]);
    // The final upload the server made is whole: nothing it is joined from was terminated.
    const [final] = [...server.uploads.entries()].filter(([, upload]) => upload.parts);
    expect(sha256(server.bytes(final![0]))).toBe(file.sha256);
  });

  it('an abort while the final request is unanswered: the partial uploads are not terminated', async () => {
    const server = await startTusSpecServer();
    const file = randomFile(tempDir(), 'f.bin', 3 * 64 * KiB);
    const controller = new AbortController();
    server.onFinal = () => {
      setImmediate(() => controller.abort());
      return 'hang';
    };
    const error = (await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint }),
      partSize: 64 * KiB,
      concurrency: 3,
      store: false,
      signal: controller.signal,
    }).catch((e: unknown) => e)) as PartsError;
    expect(error.code).toBe('ERR_ABORTED');
    expect(error.abandoned).toBe(false);
    expect(error.abandonError).toMatchObject({ code: 'ERR_COMPLETE_UNKNOWN' });
    expect(server.log.filter((l) => l.startsWith('DELETE'))).toEqual([]);
  });
});
