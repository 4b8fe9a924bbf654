import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FRAME, frame, receive, startH2Server, startRawH2Server } from '../../helpers/h2.js';

const server = await startH2Server(receive);

describe('a process that uploads over HTTP/2 is free to exit', () => {
  it('after the upload, no socket keeps the event loop alive (the session is unref’d while idle)', async () => {
    const child = join(import.meta.dirname, 'exit-child.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [child, server.url], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({ status: 200, handles: [] });
  });

  it('while an upload is pending on a session nghttp2 stopped (DATA before HEADERS), it waits for it to settle', async () => {
    const broken = await startRawH2Server((got, connection) => {
      if (got.type !== FRAME.DATA || (got.flags & 1) === 0) return;
      // DATA before HEADERS, then an answer: Node 20 reports nothing of the GOAWAY nghttp2 sends.
      connection.send(
        frame(FRAME.DATA, 0, got.streamId, Buffer.from('x')),
        frame(FRAME.HEADERS, 5, got.streamId, Buffer.from([0x88])),
      );
    });
    const child = join(import.meta.dirname, 'exit-protocol-child.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [child, `${broken.origin}/up`], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({ code: 'ERR_REQUEST_FAILED', cause: 'PROTOCOL_ERROR' });
  });

  it('while an upload waits for a place on a session whose SETTINGS allow no stream, it waits for it to settle', async () => {
    const noStreams = await startH2Server(receive, { settings: { maxConcurrentStreams: 0 } });
    const child = join(import.meta.dirname, 'exit-protocol-child.mjs');
    const started = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, [child, noStreams.url, '1000'], { timeout: 30_000 });
    // Nothing but the session can keep the process alive until the signal's (unref'd) timer fires.
    expect(JSON.parse(stdout)).toEqual({ code: 'ERR_ABORTED', cause: 23 }); // the TimeoutError's DOMException code
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});
