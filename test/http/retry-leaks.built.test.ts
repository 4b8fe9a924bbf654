import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { json, startServer } from '../helpers/servers.js';

const run = promisify(execFile);
const dir = tempDir();
const filePath = writeFile(dir, 'file.bin', bytes(256 * 1024, 7));

describe('200 uploads with random retries leave no descriptor or socket behind', () => {
  it('in a child process that counts its own /proc/self/fd', async () => {
    let x = 12345;
    const random = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const received: Array<{ declared: number; received: number }> = [];
    const server = await startServer((req, res) => {
      req.on('error', () => {});
      const fate = req.url!.endsWith('?warm') ? 1 : random();
      if (fate < 0.15) return void req.once('data', () => req.socket.resetAndDestroy()); // reset mid-body
      if (fate < 0.25) return void req.socket.destroy(); // closed before an answer
      const entry = { declared: Number(req.headers['content-length']), received: 0 };
      req.on('data', (chunk: Buffer) => (entry.received += chunk.length));
      req.on('end', () => {
        if (fate < 0.4) return json(res, 503, { busy: true });
        if (fate < 0.5) return json(res, 429, {}, { 'retry-after': '0' });
        if (fate < 0.55) return json(res, 500, { big: 'x'.repeat(100_000) });
        received.push(entry);
        json(res, 200, {});
      });
    });
    const { stdout } = await run(
      process.execPath,
      [join(import.meta.dirname, 'retry-leak-child.mjs'), server.url, filePath],
      { timeout: 120_000 },
    );
    const result = JSON.parse(stdout) as {
      before: number;
      after: number;
      outcomes: Record<string, number>;
      retries: number;
      sockets: number;
    };
    expect(result.after).toBeLessThanOrEqual(result.before);
    expect(result.sockets).toBe(0);
    expect(result.retries).toBeGreaterThan(20);
    expect(Object.values(result.outcomes).reduce((a, b) => a + b, 0)).toBe(200);
    expect(result.outcomes['200']).toBeGreaterThan(150);
    for (const entry of received) expect(entry.received).toBe(entry.declared);
  });
});
