import { describe, expect, it } from 'vitest';
import { PartsError, tus, uploadParts } from '../../src/index.js';
import { startServer } from '../helpers/servers.js';
import { startTusSpecServer } from './fakes/tus-spec.js';
import { bytesOf, sha256 } from './helpers.js';

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as PartsError,
  );

describe('tus: an Upload-Offset that is not digits alone is refused, never read as 0', () => {
  it.each([[''], [' '], ['abc'], ['-1'], ['1e3'], ['0x10'], ['1.5'], ['99999999999999999']])(
    'a PATCH answered with Upload-Offset %j: ERR_UNEXPECTED_RESPONSE, nothing retried',
    async (offset) => {
      const log: string[] = [];
      const server = await startServer((req, res) => {
        log.push(req.method!);
        req.resume();
        req.on('end', () => {
          const headers: Record<string, string> = { 'tus-resumable': '1.0.0' };
          if (req.method === 'POST') headers.location = '/files/1';
          if (req.method === 'PATCH') headers['upload-offset'] = offset;
          res.writeHead(req.method === 'POST' ? 201 : 204, headers).end();
        });
      });
      const error = await rejection(
        uploadParts(new Uint8Array(100), { protocol: tus({ endpoint: `${server.origin}/files/` }), retry: 0 }),
      );
      expect(error!.code).toBe('ERR_UNEXPECTED_RESPONSE');
      expect(error!.message).toMatch(/Upload-Offset/);
      expect(log.filter((method) => method === 'PATCH')).toHaveLength(1);
    },
  );
});

describe('tus: an Upload-Offset past the bytes sent', () => {
  it('ERR_UNEXPECTED_RESPONSE, and `stored` keeps what was checked, not the offset the server made up', async () => {
    const server = await startServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const headers: Record<string, string> = { 'tus-resumable': '1.0.0' };
        if (req.method === 'POST') headers.location = '/files/1';
        // The first piece is taken, the second answered with an offset no file of 200 bytes has.
        if (req.method === 'PATCH')
          headers['upload-offset'] = req.headers['upload-offset'] === '0' ? '100' : '999999999999';
        res.writeHead(req.method === 'POST' ? 201 : 204, headers).end();
      });
    });
    const error = await rejection(
      uploadParts(new Uint8Array(200), {
        protocol: tus({ endpoint: `${server.origin}/files/` }),
        partSize: 100,
        retry: 0,
      }),
    );
    expect(error!.code).toBe('ERR_UNEXPECTED_RESPONSE');
    expect(error!.stored).toEqual([{ start: 0, end: 100 }]);
  });
});

describe('tus: a relative Location is resolved against the URL that answered', () => {
  it('the creation POST redirected (307) to another server: its upload is there, not at the endpoint', async () => {
    const server = await startTusSpecServer();
    server.relativeLocation = true;
    const front: string[] = [];
    // The endpoint only redirects to the server that creates uploads; anything else it answers 404.
    const endpoint = await startServer((req, res) => {
      front.push(req.method!);
      req.resume();
      if (req.url === '/front/') res.writeHead(307, { location: server.endpoint }).end();
      else res.writeHead(404).end();
    });
    const { data, sha256: digest } = bytesOf(100 * 1024);
    const result = await uploadParts(data, {
      protocol: tus({ endpoint: `${endpoint.origin}/front/`, parallel: false }),
      retry: 0,
    });
    expect(result.url.startsWith(server.endpoint)).toBe(true);
    expect(sha256(server.bytes(result.url))).toBe(digest);
    expect(front).toEqual(['OPTIONS', 'POST']);
  });
});

describe("tus: the caller's headers go to the upload URL the server names (docs/large-files.md says so)", () => {
  it('another origin named by Location gets them: it is where the upload lives, not a redirect', async () => {
    const seen: string[] = [];
    const storage = await startServer((req, res) => {
      seen.push(`${req.method} ${req.headers.authorization ?? ''}`);
      req.resume();
      req.on('end', () => res.writeHead(204, { 'tus-resumable': '1.0.0', 'upload-offset': '100' }).end());
    });
    const endpoint = await startServer((req, res) => {
      req.resume();
      const location = req.method === 'POST' ? { location: `${storage.origin}/uploads/1` } : {};
      res.writeHead(req.method === 'POST' ? 201 : 204, { 'tus-resumable': '1.0.0', ...location }).end();
    });
    const result = await uploadParts(new Uint8Array(100), {
      protocol: tus({ endpoint: `${endpoint.origin}/files/`, headers: { authorization: 'Bearer token' } }),
      retry: 0,
    });
    expect(result.url).toBe(`${storage.origin}/uploads/1`);
    expect(seen).toEqual(['PATCH Bearer token']);
  });
});
