import { readdirSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { MultipartParam, upload } from '../../src/index.js';
import { tempDir } from '../helpers/files.js';

// What a hostile review of round 2's features found, one row a class; each must end typed, exact and clean.
// (The encoder's rows live in test/multipart/: body, nesting, options, sources/blob, web.)

describe('nothing waits past its bound', () => {
  it('upload({ spool }) of a stream that never ends settles at its timeout, leaving no file', async () => {
    const spoolDir = tempDir();
    const never = (async function* () {
      yield Buffer.alloc(2_000_000);
      await new Promise(() => {});
    })();
    const started = Date.now();
    await expect(
      upload(
        'http://127.0.0.1:9/',
        { f: new MultipartParam('f', { fileobj: never }) },
        { spool: { dir: spoolDir }, timeout: 300 },
      ),
    ).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('a retried answer that stalls half way is dropped, its connection closed', async () => {
    let attempts = 0;
    let stalledClosed = false;
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        attempts++;
        if (attempts === 1) {
          socket.on('close', () => (stalledClosed = true));
          socket.write('HTTP/1.1 503 Busy\r\ncontent-length: 10\r\n\r\n12345'); // and never the rest
        } else socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
      const response = await upload(
        url,
        { a: 'b' },
        { method: 'PUT', retry: { limit: 1, backoff: 1 }, expectContinue: false },
      );
      expect(await response.text()).toBe('ok');
      for (let i = 0; i < 100 && !stalledClosed; i++) await new Promise((r) => setTimeout(r, 30));
      expect(stalledClosed).toBe(true);
    } finally {
      server.close();
    }
  });
});
