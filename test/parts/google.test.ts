import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { googleResumable, PartsError, uploadParts, type PartsSession } from '../../src/index.js';
import { tempDir } from '../helpers/files.js';
import { startServer } from '../helpers/servers.js';
import { startGoogleFake } from './fakes/google.js';
import { KiB, MiB, randomFile } from './helpers.js';

const stored = (body: string) => JSON.parse(body) as { sha256: string; size: string; name: string };

describe("uploadParts with googleResumable (a server following Google's published protocol)", () => {
  it('starts a session with the metadata, sends Content-Range pieces in order, returns the final metadata', async () => {
    const fake = await startGoogleFake();
    const file = randomFile(tempDir(), 'a.bin', 3 * MiB + 7);
    const result = await uploadParts(file.path, {
      protocol: googleResumable({
        start: fake.start,
        metadata: { name: 'a.bin' },
        contentType: 'application/octet-stream',
      }),
      partSize: MiB,
      concurrency: 4,
      store: false,
    });
    expect(result.status).toBe(200);
    expect(stored(result.body)).toMatchObject({ name: 'a.bin', sha256: file.sha256, size: String(3 * MiB + 7) });
    expect(fake.log.filter((l) => l.startsWith('PUT'))).toEqual([
      `PUT bytes 0-${MiB - 1}/${3 * MiB + 7}`,
      `PUT bytes ${MiB}-${2 * MiB - 1}/${3 * MiB + 7}`,
      `PUT bytes ${2 * MiB}-${3 * MiB - 1}/${3 * MiB + 7}`,
      `PUT bytes ${3 * MiB}-${3 * MiB + 6}/${3 * MiB + 7}`,
    ]);
  });

  it('a reset mid-piece: the status query says what was kept, and the rest goes from there', async () => {
    const fake = await startGoogleFake();
    const file = randomFile(tempDir(), 'b.bin', 2 * MiB);
    let puts = 0;
    fake.fault = ({ method, range }) =>
      method === 'PUT' && !range?.includes('*') && ++puts === 2 ? { resetAfter: 700 * KiB } : undefined;
    const result = await uploadParts(file.path, {
      protocol: googleResumable({ start: fake.start }),
      partSize: MiB,
      store: false,
      retry: { backoff: 10 },
    });
    expect(stored(result.body).sha256).toBe(file.sha256);
    expect(fake.log).toContain(`PUT bytes */${2 * MiB}`);
    // 512 KiB of the cut piece were kept: the next piece starts there.
    expect(fake.log).toContain(`PUT bytes ${MiB + 512 * KiB}-${2 * MiB - 1}/${2 * MiB}`);
  });

  it('a server that loses stored bytes (a lower Range): they are sent again', async () => {
    const fake = await startGoogleFake();
    const file = randomFile(tempDir(), 'c.bin', 3 * MiB);
    let puts = 0;
    fake.fault = ({ method }) => (method === 'PUT' && ++puts === 2 ? { lose: 256 * KiB } : undefined);
    const result = await uploadParts(file.path, {
      protocol: googleResumable({ start: fake.start }),
      partSize: MiB,
      store: false,
    });
    expect(stored(result.body).sha256).toBe(file.sha256);
    expect(fake.log).toContain(`PUT bytes ${2 * MiB - 256 * KiB}-${3 * MiB - 256 * KiB - 1}/${3 * MiB}`);
  });

  it('a 503 storm beyond the retries: ERR_PIECE_FAILED, the session cancelled (499)', async () => {
    const fake = await startGoogleFake();
    const file = randomFile(tempDir(), 'd.bin', MiB);
    fake.fault = ({ method }) => (method === 'PUT' ? { status: 503, retryAfter: '0' } : undefined);
    const error = (await uploadParts(file.path, {
      protocol: googleResumable({ start: fake.start }),
      store: false,
      retry: { limit: 2, backoff: 10 },
    }).catch((e: unknown) => e)) as PartsError;
    expect(error).toBeInstanceOf(PartsError);
    expect(error.code).toBe('ERR_PIECE_FAILED');
    expect(error.abandoned).toBe(true);
    expect(fake.sessions.size).toBe(0);
  });

  it('an async retry.onRetry that rejects as a piece is retried: ERR_CALLBACK_FAILED, cancelled, nothing unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const fake = await startGoogleFake();
      const file = randomFile(tempDir(), 'r.bin', MiB);
      let refused = false;
      fake.fault = ({ method, range }) =>
        method === 'PUT' && range?.startsWith('bytes 0-') && !refused ? ((refused = true), { status: 503 }) : undefined;
      const error = (await uploadParts(file.path, {
        protocol: googleResumable({ start: fake.start }),
        partSize: 256 * KiB,
        store: false,
        retry: {
          limit: 3,
          backoff: 10,
          onRetry: async () => {
            throw new Error('onRetry rejected');
          },
        },
      }).catch((e: unknown) => e)) as PartsError;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
      expect(error).toBeInstanceOf(PartsError);
      expect(error.code).toBe('ERR_CALLBACK_FAILED');
      expect((error.cause as Error).message).toBe('onRetry rejected');
      expect(error.abandoned).toBe(true);
      expect(fake.sessions.size).toBe(0);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a Retry-After longer than retry.maxRetryAfter is not waited for', async () => {
    const fake = await startGoogleFake();
    const file = randomFile(tempDir(), 'e.bin', MiB);
    fake.fault = ({ method }) => (method === 'PUT' ? { status: 429, retryAfter: '3600' } : undefined);
    const error = (await uploadParts(file.path, {
      protocol: googleResumable({ start: fake.start }),
      store: false,
      retry: { maxRetryAfter: 1000 },
    }).catch((e: unknown) => e)) as PartsError;
    expect(error.code).toBe('ERR_PIECE_FAILED');
    expect(error.status).toBe(429);
  });

  it('a session that expired (410): ERR_SESSION_EXPIRED', async () => {
    const fake = await startGoogleFake();
    const file = randomFile(tempDir(), 'f.bin', 2 * MiB);
    let puts = 0;
    fake.fault = ({ method }) => (method === 'PUT' && ++puts === 2 ? { status: 410 } : undefined);
    const error = (await uploadParts(file.path, {
      protocol: googleResumable({ start: fake.start }),
      partSize: MiB,
      store: false,
    }).catch((e: unknown) => e)) as PartsError;
    expect(error.code).toBe('ERR_SESSION_EXPIRED');
    expect(error.stored).toEqual([{ start: 0, end: MiB }]);
  });

  it('an empty file is finished by the status query', async () => {
    const fake = await startGoogleFake();
    const dir = tempDir();
    writeFileSync(join(dir, 'empty'), '');
    const result = await uploadParts(join(dir, 'empty'), {
      protocol: googleResumable({ start: fake.start }),
      store: false,
    });
    expect(stored(result.body)).toMatchObject({ size: '0', sha256: createHash('sha256').digest('hex') });
  });

  it('refuses a partSize that is not a multiple of 256 KiB', async () => {
    const file = randomFile(tempDir(), 'g.bin', 10);
    const error = (await uploadParts(file.path, {
      protocol: googleResumable({ start: 'http://127.0.0.1:9/x' }),
      partSize: MiB + 1,
      store: false,
    }).catch((e: unknown) => e)) as PartsError;
    expect(error.code).toBe('ERR_INVALID_OPTION');
  });

  it('a server that takes a piece, then loses it, over and over: the lane ends at retry.limit', async () => {
    const fake = await startGoogleFake();
    const file = randomFile(tempDir(), 'h.bin', MiB);
    let puts = 0;
    // Each second piece is lost with the one before; after 40 PUTs the server behaves, so a loop shows as a success.
    fake.fault = ({ method, range }) =>
      method === 'PUT' && !range?.includes('*') && ++puts % 2 === 0 && puts < 40 ? { lose: 512 * KiB } : undefined;
    const error = (await uploadParts(file.path, {
      protocol: googleResumable({ start: fake.start }),
      partSize: 256 * KiB,
      store: false,
      retry: { limit: 2, backoff: 1 },
    }).catch((e: unknown) => e)) as PartsError;
    expect(error).toBeInstanceOf(PartsError);
    expect(error.code).toBe('ERR_PIECE_FAILED');
    expect(puts).toBe(4);
  });

  it('a 308 with a Location is "Resume Incomplete", never a redirect: the piece is not sent elsewhere', async () => {
    const fake = await startGoogleFake();
    const elsewhere: string[] = [];
    const other = await startServer((req, res) => {
      elsewhere.push(`${req.method} ${req.headers.authorization ?? ''}`);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"elsewhere"}');
    });
    const file = randomFile(tempDir(), 'i.bin', 512 * KiB);
    let puts = 0;
    fake.fault = ({ method, range }) =>
      method === 'PUT' && !range?.includes('*') && ++puts === 1
        ? { status: 308, location: `${other.origin}/elsewhere` }
        : undefined;
    const result = await uploadParts(file.path, {
      protocol: googleResumable({ start: fake.start, headers: { authorization: 'Bearer secret' } }),
      store: false,
      retry: { limit: 2, backoff: 1 },
    });
    expect(elsewhere).toEqual([]);
    expect(stored(result.body).sha256).toBe(file.sha256);
  });

  it('a relative session URI is resolved against the URL that answered (the start POST redirected)', async () => {
    const fake = await startGoogleFake();
    fake.relativeLocation = true;
    const front: string[] = [];
    const start = await startServer((req, res) => {
      front.push(req.method!);
      req.resume();
      if (req.url!.startsWith('/front?')) res.writeHead(307, { location: fake.start }).end();
      else res.writeHead(404).end();
    });
    const file = randomFile(tempDir(), 'j.bin', 300 * KiB);
    const result = await uploadParts(file.path, {
      protocol: googleResumable({ start: `${start.origin}/front?uploadType=resumable` }),
      store: false,
      retry: 0,
    });
    expect(result.url.startsWith(new URL(fake.start).origin)).toBe(true);
    expect(stored(result.body).sha256).toBe(file.sha256);
    expect(front).toEqual(['POST']);
  });

  it('a Range past the bytes sent: ERR_UNEXPECTED_RESPONSE, and `stored` keeps what was checked, not that', async () => {
    const fake = await startGoogleFake();
    const file = randomFile(tempDir(), 'k.bin', 512 * KiB);
    let puts = 0;
    fake.fault = ({ method, range }) =>
      method === 'PUT' && !range?.includes('*') && ++puts === 2
        ? { status: 308, range: 'bytes=0-999999999998' }
        : undefined;
    const error = (await uploadParts(file.path, {
      protocol: googleResumable({ start: fake.start }),
      partSize: 256 * KiB,
      store: false,
      retry: 0,
    }).catch((e: unknown) => e)) as PartsError;
    expect(error.code).toBe('ERR_UNEXPECTED_RESPONSE');
    expect(error.stored).toEqual([{ start: 0, end: 256 * KiB }]);
  });

  it("resuming, a Range past the file's size: ERR_UNEXPECTED_RESPONSE, not an upload done having sent nothing", async () => {
    const fake = await startGoogleFake();
    const file = randomFile(tempDir(), 'l.bin', 512 * KiB);
    const saved = new Map<string, PartsSession>();
    const store = {
      get: (key: string) => saved.get(key),
      set: (key: string, session: PartsSession) => void saved.set(key, session),
      delete: (key: string) => void saved.delete(key),
    };
    const options = { protocol: googleResumable({ start: fake.start }), partSize: 256 * KiB, store, retry: 0 };
    let puts = 0;
    fake.fault = ({ method, range }) =>
      method === 'PUT' && !range?.includes('*') && ++puts === 2 ? { status: 400 } : undefined;
    await uploadParts(file.path, { ...options, keepSession: true }).catch(() => {});
    let queries = 0;
    fake.fault = ({ range }) =>
      range?.includes('*') && ++queries === 1 ? { status: 308, range: `bytes=0-${3 * 512 * KiB}` } : undefined;
    const error = (await uploadParts(file.path, options).catch((e: unknown) => e)) as PartsError;
    expect(error.code).toBe('ERR_UNEXPECTED_RESPONSE');
    expect(error.message).toMatch(/past the file's/);
    // The session was saved as it began (Google's offset is asked, not kept): never the Range made up.
    expect(error.stored).toEqual([]);
  });
});

describe('googleResumable: what a server answers at the start and the end is taken whole, or refused', () => {
  /** A server that starts a session (Location `location`), takes the whole file in one PUT and answers `final`. */
  async function oneShot(location: string, final: string) {
    const log: string[] = [];
    const server = await startServer((req, res) => {
      log.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => {
        if (req.method === 'POST') return void res.writeHead(200, { location }).end();
        if (req.method === 'DELETE') return void res.writeHead(499).end();
        res.writeHead(200, { 'content-type': 'application/json' }).end(final);
      });
    });
    return { start: `${server.origin}/start`, log };
  }
  const file = () => randomFile(tempDir(), 'g.bin', 300 * KiB);
  /** The upload of a new file to `start`, which must fail: its PartsError. */
  const failure = async (start: string) => {
    const error = await uploadParts(file().path, { protocol: googleResumable({ start }), store: false }).then(
      () => expect.fail('the upload should have failed'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PartsError);
    return error as PartsError;
  };

  it('a final answer of 100 KB comes back whole; one over 1 MiB is ERR_COMPLETE_UNKNOWN, never cut nor cancelled', async () => {
    const metadata = JSON.stringify({ name: 'g.bin', note: 'x'.repeat(100_000) });
    const small = await oneShot('/session', metadata);
    const result = await uploadParts(file().path, { protocol: googleResumable({ start: small.start }), store: false });
    expect(result.body).toBe(metadata);
    const large = await oneShot('/session', JSON.stringify({ note: 'x'.repeat(1024 * 1024) }));
    const error = await failure(large.start);
    expect(error.code).toBe('ERR_COMPLETE_UNKNOWN');
    expect(error.message).toContain('its answer is longer than 1048576 bytes');
    expect(error.abandoned).toBe(false);
    expect(large.log).not.toContain('DELETE /session');
  });

  it.each(['', ' '])('a start answered with Location %j: ERR_UNEXPECTED_RESPONSE, no piece sent', async (location) => {
    const server = await oneShot(location, '{}');
    const error = await failure(server.start);
    expect(error.code).toBe('ERR_UNEXPECTED_RESPONSE');
    expect(server.log).toEqual(['POST /start']);
  });

  it('metadata that JSON cannot hold: ERR_INVALID_OPTION at once', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const throwing = {
      toJSON() {
        throw new Error('no JSON here');
      },
    };
    for (const metadata of [cyclic, { size: 10n }, throwing]) {
      let error: unknown;
      try {
        googleResumable({ start: 'http://127.0.0.1:9/start', metadata });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PartsError);
      expect((error as PartsError).code).toBe('ERR_INVALID_OPTION');
      expect((error as PartsError).message).toContain('cannot be written as JSON');
    }
  });
});
