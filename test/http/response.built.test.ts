import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// upload() answers with a WHATWG Response: in a Node without one, a typed rejection, not a crash.
// Runs the build (dist/) in a child process: started with --no-experimental-fetch (Node 20 and 22),
// or with the two globals deleted before the import (every version).
const root = join(import.meta.dirname, '..', '..');
const child = join(root, 'test', 'fixtures', 'http', 'no-fetch-child.mjs');

let requests = 0;
const server = createServer((req, res) => {
  requests++;
  req.resume().on('end', () => res.end('ok'));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Node 24 dropped the flag (its fetch can no longer be turned off). */
const hasFetchFlag = spawnSync(process.execPath, ['--no-experimental-fetch', '-e', '0']).status === 0;

async function run(nodeFlags: string[], how: string[]): Promise<unknown> {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...nodeFlags, child, join(root, 'dist', 'index.js'), url, ...how],
    { timeout: 20_000 },
  );
  return JSON.parse(stdout);
}

describe('a runtime without Response and Headers', () => {
  const error = { name: 'UploadError', code: 'ERR_RUNTIME_UNSUPPORTED' };

  it('node --no-experimental-fetch (a flag Node 24 dropped): each upload() rejects with ERR_RUNTIME_UNSUPPORTED, nothing is sent, the process lives on', async () => {
    if (!hasFetchFlag) {
      // Node 24 and later refuse the flag (their fetch cannot be turned off): the next test covers them.
      expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
      return;
    }
    expect(await run(['--no-experimental-fetch'], [])).toEqual({ fetch: 'undefined', settled: [error, error] });
    expect(requests).toBe(0);
  });

  it('the globals deleted before the import: the same, on every Node version', async () => {
    expect(await run([], ['delete'])).toEqual({ fetch: 'undefined', settled: [error, error] });
    expect(requests).toBe(0);
  });
});
