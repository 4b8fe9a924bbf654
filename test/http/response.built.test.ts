import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// upload() answers with a WHATWG Response: in a Node without one, a typed rejection, not a crash.
// Runs the build (dist/) in a child process started with --no-experimental-fetch.
const root = join(import.meta.dirname, '..', '..');
const child = join(root, 'test', 'fixtures', 'http', 'no-fetch-child.mjs');

let requests = 0;
const server = createServer((req, res) => {
  requests++;
  req.resume().on('end', () => res.end('ok'));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('a runtime without Response and Headers', () => {
  it('node --no-experimental-fetch: each upload() rejects with ERR_RUNTIME_UNSUPPORTED, nothing is sent, the process lives on', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--no-experimental-fetch', child, join(root, 'dist', 'index.js'), url],
      { timeout: 20_000 },
    );
    const error = { name: 'UploadError', code: 'ERR_RUNTIME_UNSUPPORTED' };
    expect(JSON.parse(stdout)).toEqual({ fetch: 'undefined', settled: [error, error] });
    expect(requests).toBe(0);
  });
});
