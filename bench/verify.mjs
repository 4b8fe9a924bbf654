// How the benchmark checks what a client sent: busboy parses the body, counting its bytes and,
// when asked, listing every part with a SHA-256 of each file; `checkReport` compares that with
// the workload's own fields and files (whose digests `fileDigests` in workloads.mjs caches).
import busboy from 'busboy';
import { createHash } from 'node:crypto';

const NO_LIMITS = { fieldSize: Infinity, fields: Infinity, files: Infinity, parts: Infinity };

/**
 * Parses one multipart body from `stream` with busboy. Resolves to { status, body }: the bytes
 * received, the number of parts, the Content-Length header and whether the body was chunked,
 * and with `sha256` also `received`: every part in order, fields with their value and files
 * with their filename, size and SHA-256.
 */
export function parseMultipart(stream, headers, { sha256 = false } = {}) {
  return new Promise((resolve) => {
    let bytes = 0;
    let parts = 0;
    const received = [];
    const files = [];
    stream.on('data', (chunk) => (bytes += chunk.length));
    let parser;
    try {
      parser = busboy({ headers, limits: NO_LIMITS });
    } catch (error) {
      stream.resume();
      resolve({ status: 400, body: { error: error.message } });
      return;
    }
    parser.on('field', (name, value) => {
      parts++;
      if (sha256) received.push({ name, value });
    });
    parser.on('file', (name, file, info) => {
      parts++;
      if (!sha256) {
        file.resume();
        return;
      }
      const part = { name, filename: info.filename, size: 0, sha256: undefined };
      const hash = createHash('sha256');
      received.push(part);
      file.on('data', (chunk) => {
        part.size += chunk.length;
        hash.update(chunk);
      });
      files.push(new Promise((done) => file.on('end', () => done((part.sha256 = hash.digest('hex'))))));
    });
    parser.on('close', async () => {
      await Promise.all(files);
      resolve({
        status: 200,
        body: {
          bytes,
          parts,
          contentLength: headers['content-length'] === undefined ? null : Number(headers['content-length']),
          chunked: /chunked/i.test(headers['transfer-encoding'] ?? ''),
          ...(sha256 ? { received } : {}),
        },
      });
    });
    parser.on('error', (error) => resolve({ status: 400, body: { error: error.message } }));
    stream.pipe(parser);
  });
}

/**
 * 'ok', or what is wrong with one upload: the server's report against the client's declared
 * length and the parts it should have received (fields with their value, files with their
 * filename, size and SHA-256, in order).
 */
export function checkReport(report, declared, expected) {
  if (!report || report.error) return `server: ${report?.error ?? 'no report'}`;
  if (declared !== null && declared !== undefined && report.bytes !== declared)
    return `${report.bytes} bytes received, ${declared} declared`;
  if (report.contentLength === null) return 'no Content-Length';
  if (report.contentLength !== report.bytes)
    return `Content-Length ${report.contentLength}, ${report.bytes} bytes received`;
  if (report.chunked) return 'chunked';
  if (!report.received) return 'the server did not hash the parts';
  if (report.received.length !== expected.length)
    return `${report.received.length} parts received, ${expected.length} sent`;
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i];
    const got = report.received[i];
    for (const key of ['name', 'value', 'filename', 'size', 'sha256']) {
      if (want[key] !== undefined && got[key] !== want[key])
        return `part ${i} (${want.name}): ${key} ${JSON.stringify(got[key])}, expected ${JSON.stringify(want[key])}`;
    }
  }
  return 'ok';
}
