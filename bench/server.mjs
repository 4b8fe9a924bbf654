// The upload receiver: a separate process that parses uploads with busboy and answers with what
// it counted. `node bench/server.mjs [--tls] [--sha256]`: W5 runs it bare, so only the clients
// are measured; the other upload workloads add --sha256 (a digest of every file, checked by the
// worker) and W6 --tls (HTTPS with fixtures/tls/server.crt, signed by fixtures/tls/ca.crt).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { join } from 'node:path';
import { parseMultipart } from './verify.mjs';

const tls = process.argv.includes('--tls');
const sha256 = process.argv.includes('--sha256');
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'tls');

async function handle(req, res) {
  const { status, body } = await parseMultipart(req, req.headers, { sha256 });
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = tls
  ? createTlsServer(
      { cert: readFileSync(join(fixtures, 'server.crt')), key: readFileSync(join(fixtures, 'server.key')) },
      handle,
    )
  : createServer(handle);
server.listen(0, '127.0.0.1', 511, () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
