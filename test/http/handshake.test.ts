import type { AddressInfo } from 'node:net';
import { createServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { upload, UploadError } from '../../src/index.js';
import { rawServer } from '../helpers/raw-server.js';
import { cleanUpAfter } from '../helpers/cleanup.js';
import { tls } from '../helpers/servers.js';

// An ERR_REQUEST_FAILED whose connection ended before its TLS handshake completed says so on its
// cause (`tlsHandshakeIncomplete: true`): a reset there carries ECONNRESET, as a reset after the
// handshake does, and only this mark tells the CLI that TLS never began (curl's 35, not 56).

async function causeOf(url: string, http2?: 'auto'): Promise<Error & { code?: string; tlsHandshakeIncomplete?: true }> {
  const error = await upload(url, { a: 'x' }, { retry: 0, tls: { ca: tls.ca }, ...(http2 ? { http2 } : {}) }).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(UploadError);
  expect((error as UploadError).code).toBe('ERR_REQUEST_FAILED');
  return (error as UploadError).cause as Error & { code?: string; tlsHandshakeIncomplete?: true };
}

/** A plain TCP server that resets the connection when the client hello arrives. */
const resetting = async () =>
  (await rawServer((socket) => socket.resetAndDestroy(), { atFirstBytes: true })).url.replace('http:', 'https:');

describe('a TLS connection that ends before its handshake completed', () => {
  it('a reset during the handshake: ECONNRESET, marked', async () => {
    const cause = await causeOf(await resetting());
    expect(cause.code).toBe('ECONNRESET');
    expect(cause.tlsHandshakeIncomplete).toBe(true);
  });

  it('over HTTP/2 (ALPN) too', async () => {
    const cause = await causeOf(await resetting(), 'auto');
    expect(cause.code).toBe('ECONNRESET');
    expect(cause.tlsHandshakeIncomplete).toBe(true);
  });

  it('a plain-HTTP answer read as TLS: marked, whichever error comes first', async () => {
    const answer = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';
    const plain = await rawServer((socket) => (socket.write(answer), socket.resetAndDestroy()), { atFirstBytes: true });
    expect((await causeOf(plain.url.replace('http:', 'https:'))).tlsHandshakeIncomplete).toBe(true);
  });

  it('a close once the handshake is done is not marked', async () => {
    const server = createServer({ cert: tls.cert, key: tls.key }, (socket) =>
      socket.once('data', () => socket.destroy()),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanUpAfter(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const cause = await causeOf(`https://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    expect(cause.code).toBe('ECONNRESET');
    expect(cause.tlsHandshakeIncomplete).toBeUndefined();
  });
});
