import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MultipartParam, upload, UploadError } from '../../src/index.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { json, startServer } from '../helpers/servers.js';

const dir = tempDir();
const MiB = 1024 * 1024;
const filePath = writeFile(dir, 'three.bin', bytes(3 * MiB, 8));

/** Reads slowly, so that the kernel's buffers fill and the upload has to wait for the server. */
const slow = await startServer((req, res) => {
  req.on('data', () => {
    req.pause();
    setTimeout(() => req.resume(), 2);
  });
  req.on('end', () => setTimeout(() => json(res, 200, {}), 20));
});

describe('onUploadProgress and onBodySent', () => {
  it('with 1 MiB blocks, progress comes at least every 64 KiB, in order, to the total; then onBodySent, then the answer', async () => {
    const events: Array<number | 'sent'> = [];
    const response = await upload(
      slow.url,
      { file: await MultipartParam.fromFile('file', filePath) },
      {
        blockSize: MiB,
        expectContinue: false,
        onUploadProgress: (loaded) => events.push(loaded),
        onBodySent: () => events.push('sent'),
      },
    );
    events.push(response.status);
    const loaded = events.slice(0, -2) as number[];
    const total = loaded.at(-1)!;
    expect(events.slice(-2)).toEqual(['sent', 200]);
    expect(loaded.length).toBeGreaterThanOrEqual(Math.floor((3 * MiB) / (64 * 1024)));
    for (let i = 0; i < loaded.length; i++) {
      const step = loaded[i]! - (i === 0 ? 0 : loaded[i - 1]!);
      expect(step).toBeGreaterThan(0);
      expect(step).toBeLessThanOrEqual(64 * 1024);
    }
    expect(total).toBeGreaterThan(3 * MiB);
  });

  it('onBodySent runs once per attempt (a retry sends the body again), also for a chunked body', async () => {
    let calls = 0;
    const server = await startServer((req, res) => {
      calls++;
      req.resume();
      req.on('end', () => json(res, calls === 1 ? 503 : 200, {}));
    });
    let sent = 0;
    expect(
      (
        await upload(
          server.url,
          { file: await MultipartParam.fromFile('file', filePath) },
          { method: 'PUT', retry: { backoff: 1 }, onBodySent: () => sent++ },
        )
      ).status,
    ).toBe(200);
    expect(sent).toBe(2);
    let chunked = 0;
    const stream = new MultipartParam('s', { fileobj: Readable.from([Buffer.from('abc')]) });
    await (await upload(server.url, { s: stream }, { onBodySent: () => chunked++ })).text();
    expect(chunked).toBe(1);
  });

  it('is not called when the server answers before the body is sent', async () => {
    const server = await startServer((_req, res) => json(res, 413, {}));
    let sent = 0;
    const response = await upload(
      server.url,
      { file: await MultipartParam.fromFile('file', filePath) },
      { onBodySent: () => sent++ },
    );
    expect(response.status).toBe(413);
    expect(sent).toBe(0);
  });

  it('an onBodySent that throws fails the upload with ERR_CALLBACK_FAILED', async () => {
    const error = (await upload(
      slow.url,
      { a: 'x' },
      {
        onBodySent: () => {
          throw new Error('boom');
        },
      },
    ).catch((e: unknown) => e)) as UploadError;
    expect(error).toBeInstanceOf(UploadError);
    expect(error.code).toBe('ERR_CALLBACK_FAILED');
    expect((error.cause as Error).message).toBe('boom');
  });
});
