import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// upload()'s timeout in a process where nothing else holds the event loop: its timer must, or the
// process exits 0 with the promise never settled. Runs the build (dist/) in a child process.
const root = join(import.meta.dirname, '..', '..');
const child = join(root, 'test', 'fixtures', 'http', 'timeout-child.mjs');

function run(which: string, protocol = 'h1'): Promise<{ code: number | null; out: string }> {
  const proc = spawn(process.execPath, [child, join(root, 'dist', 'index.js'), which, protocol], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (chunk: Buffer) => (out += chunk));
  const killer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    proc.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, out: out.trim() });
    }),
  );
}

describe('the timeout holds the process until upload() settles, and bounds the body read after', () => {
  it('a spooled stream that never produces ends in ERR_TIMEOUT, not in an exit with the promise pending', async () => {
    expect(await run('spool-never-ends')).toEqual({ code: 0, out: 'ERR_TIMEOUT' });
  });

  it('an upload that ends in time releases its timer: the process exits', async () => {
    expect(await run('done-in-time')).toEqual({ code: 0, out: '200 ok' });
  });

  for (const protocol of ['h1', 'h2']) {
    it(`${protocol}: a Response whose body is never read does not hold the process for the rest of the timeout`, async () => {
      expect(await run('unread-body', protocol)).toEqual({ code: 0, out: '200' });
    });

    it(`${protocol}: once the Response is returned, the timeout still ends a body that stops coming`, async () => {
      expect(await run('body-stalls', protocol)).toEqual({ code: 0, out: '200 ERR_TIMEOUT' });
    });
  }
});
