import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { upload, UploadError, type TlsOptions } from '../../src/index.js';
import { json, startServer, tls } from '../helpers/servers.js';

// Which `tls` options follow a redirect to another origin. Decided as curl does: what decides trust
// (`ca`, `rejectUnauthorized`, `minVersion`; curl's --cacert and -k) applies to every hop; what
// identifies the client (`cert`, `key`, `pfx`, `passphrase`) stays with the first origin, like
// Authorization; `servername` names the first server, so another origin is checked against its own name.

/** Whether the client offered a certificate, per server. */
const peers: Record<string, boolean> = {};
const answer = (name: string) => (req: IncomingMessage, res: ServerResponse) => {
  peers[name] = Object.keys((req.socket as TLSSocket).getPeerCertificate()).length > 0;
  req.resume();
  const to = new URL(req.url!, 'https://x').searchParams.get('to');
  req.on('end', () => (to === null ? json(res, 200, { at: name }) : json(res, 307, {}, { location: to })));
};
const asksForCertificate = { requestCert: true, rejectUnauthorized: false };
const first = await startServer(answer('first'), { https: { cert: tls.cert, key: tls.key, ...asksForCertificate } });
const other = await startServer(answer('other'), { https: { cert: tls.cert, key: tls.key, ...asksForCertificate } });
/** Its certificate names localhost only: a client must reach it as localhost, or be told that name. */
const nameOnly = await startServer(answer('nameOnly'), { https: { cert: tls.nameOnlyCert, key: tls.nameOnlyKey } });

const via = (target: string) => `${first.url}?to=${encodeURIComponent(target)}`;
const otherAsLocalhost = other.url.replace('127.0.0.1', 'localhost');

async function outcome(url: string, options: TlsOptions): Promise<string> {
  try {
    const response = await upload(url, { a: 'x' }, { tls: options, retry: 0 });
    return `${response.status} ${((await response.json()) as { at?: string }).at ?? ''}`.trim();
  } catch (error) {
    if (!(error instanceof UploadError)) return `untyped ${String(error)}`;
    return `${error.code} ${(error.cause as { code?: string } | undefined)?.code ?? ''}`.trim();
  }
}

describe('tls across a redirect to another origin', () => {
  it('the client certificate is offered to the first origin only', async () => {
    const options = { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey };
    expect(await outcome(via(otherAsLocalhost), options)).toBe('200 other');
    expect([peers.first, peers.other]).toEqual([true, false]);
  });

  it('ca is trusted on every hop (curl keeps --cacert)', async () => {
    expect(await outcome(via(otherAsLocalhost), { ca: tls.ca })).toBe('200 other');
    // without it, the other origin's certificate is refused: the CA was what made it trusted
    expect(await outcome(via(otherAsLocalhost), {})).toMatch(/^ERR_REQUEST_FAILED /);
  });

  it('rejectUnauthorized: false holds on every hop (curl keeps -k)', async () => {
    expect(await outcome(via(otherAsLocalhost), { rejectUnauthorized: false })).toBe('200 other');
  });

  it("servername stays with the first origin: another origin's certificate is checked against its own host", async () => {
    // The name-only server is fine when the client names it...
    expect(await outcome(nameOnly.url, { ca: tls.ca, servername: 'localhost' })).toBe('200 nameOnly');
    // ...but a redirect to it as 127.0.0.1 is checked against 127.0.0.1, not against the first hop's servername.
    expect(await outcome(via(nameOnly.url), { ca: tls.ca, servername: 'localhost' })).toBe(
      'ERR_REQUEST_FAILED ERR_TLS_CERT_ALTNAME_INVALID',
    );
    // Reached by its own name, it is trusted through the CA that follows the redirect.
    expect(
      await outcome(via(nameOnly.url.replace('127.0.0.1', 'localhost')), { ca: tls.ca, servername: 'localhost' }),
    ).toBe('200 nameOnly');
  });
});
