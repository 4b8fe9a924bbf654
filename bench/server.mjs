// The W5 receiver: a separate process that parses uploads with busboy and
// answers with what it counted. It does no hashing, so the clients are measured.
import busboy from 'busboy';
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  let bytes = 0;
  let parts = 0;
  req.on('data', (chunk) => (bytes += chunk.length));
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  let parser;
  try {
    parser = busboy({ headers: req.headers, limits: { fieldSize: Infinity, fields: Infinity, files: Infinity, parts: Infinity } });
  } catch (error) {
    reply(400, { error: error.message });
    return;
  }
  parser.on('field', () => parts++);
  parser.on('file', (_name, stream) => {
    parts++;
    stream.resume();
  });
  parser.on('close', () =>
    reply(200, {
      bytes,
      parts,
      contentLength: req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']),
      chunked: /chunked/i.test(req.headers['transfer-encoding'] ?? ''),
    }),
  );
  parser.on('error', (error) => reply(400, { error: error.message }));
  req.pipe(parser);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
