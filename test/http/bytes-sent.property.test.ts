import { createHash } from 'node:crypto';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MultipartParam, multipartEncode, upload } from '../../src/index.js';

/**
 * A raw server that counts every byte each connection carries after the request head, and answers
 * once the declared length arrived. `open` counts connections that carried bytes and are not closed
 * yet. A connection that carried nothing (a request given up before it wrote, whose socket the
 * agent keeps for reuse, as Node 24's keep-alive global agent does) is no record: nothing was sent.
 */
async function countingServer() {
  const seen: Array<{ declared: number; received: number; body: Buffer }> = [];
  const state = { open: 0 };
  const server = net.createServer((socket) => {
    let data = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      if (data.length === 0) state.open++;
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const declared = Number(/content-length: (\d+)/i.exec(data.subarray(0, end).toString())?.[1] ?? -1);
      const body = data.subarray(end + 4);
      if (body.length >= declared) socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    socket.on('close', () => {
      if (data.length === 0) return;
      state.open--;
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return; // the client went away before its request head was complete: no body bytes
      const declared = Number(/content-length: (\d+)/i.exec(data.subarray(0, end).toString())?.[1] ?? -1);
      seen.push({ declared, received: data.length - end - 4, body: data.subarray(end + 4) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, seen, state };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('property: whatever a source does to its chunks after yielding them', () => {
  it('the wire carries exactly the declared bytes, or the upload fails; never more than Content-Length', async () => {
    const server = await countingServer();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 70_000 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom('reuse', 'zero-after-yield', 'honest'),
        fc.integer({ min: -3, max: 3 }),
        async (chunks, behaviour, lie) => {
          const expected = Buffer.concat(chunks);
          async function* source(): AsyncGenerator<Uint8Array> {
            const shared = Buffer.alloc(Math.max(...chunks.map((c) => c.length)));
            for (const chunk of chunks) {
              if (behaviour === 'reuse') {
                shared.set(chunk);
                yield shared.subarray(0, chunk.length);
              } else {
                const copy = Buffer.from(chunk);
                yield copy;
                if (behaviour === 'zero-after-yield') copy.fill(0);
              }
            }
          }
          const declared = Math.max(expected.length + lie, 0);
          const form = await multipartEncode([new MultipartParam('f', { fileobj: source(), filesize: declared })], {
            boundary: 'PropertyBoundary',
          });
          const before = server.seen.length;
          const ok = await upload(server.url, form, { timeout: 10_000, expectContinue: false }).then(
            async (r) => (await r.arrayBuffer(), true),
            () => false,
          );
          // Every connection the upload wrote to is closed by now or soon (the server ends an answered one, the client destroys a failed one).
          for (let i = 0; i < 400 && server.state.open > 0; i++) await new Promise((r) => setTimeout(r, 5));
          expect(server.state.open).toBe(0);
          expect(ok).toBe(lie === 0);
          const wire = server.seen.length > before ? server.seen[server.seen.length - 1]! : undefined;
          expect(server.seen.length - before).toBeLessThanOrEqual(1);
          if (wire !== undefined) expect(wire.received).toBeLessThanOrEqual(wire.declared);
          if (ok) {
            expect(wire).toBeDefined();
            const text = wire!.body.toString('latin1');
            const start = text.indexOf('\r\n\r\n') + 4;
            expect(sha(wire!.body.subarray(start, start + expected.length))).toBe(sha(expected));
            expect(wire!.received).toBe(form.contentLength);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
