import { escapeFilename, multipartEncode, MultipartParam } from '../../src/index.js';
import { bytes, writeFile } from './files.js';

/** The batch recipe of docs/recipes.md: each inner request is one application/http part with a Content-ID. */
export async function batchRequest(requests: Array<{ method: string; path: string; body?: object }>) {
  const parts = requests.map(({ method, path, body }, i) => {
    const json = body === undefined ? '' : JSON.stringify(body);
    const http =
      `${method} ${path} HTTP/1.1\r\n` +
      (body === undefined ? '' : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n`) +
      `\r\n${json}`;
    return new MultipartParam(null, {
      value: http,
      headers: { 'Content-Type': 'application/http', 'Content-ID': `<item${i + 1}>` },
    });
  });
  return multipartEncode(parts, { subtype: 'mixed' });
}

/** A form with a nested multipart/mixed of two files, as curl sends -F "files=@a.txt,b.bin". */
export async function curlStyle(dir: string) {
  const a = writeFile(dir, 'a.txt', 'first file\n');
  const b = writeFile(dir, 'b.bin', bytes(100_000, 5));
  const inner = await multipartEncode(
    await Promise.all(
      [a, b].map((path) =>
        MultipartParam.fromFile(null, path, {
          headers: { 'Content-Disposition': `attachment; filename="${escapeFilename(path.split('/').pop()!)}"` },
        }),
      ),
    ),
    { subtype: 'mixed' },
  );
  return multipartEncode([['title', 'two files'], new MultipartParam('files', { value: inner }), ['after', 'x']]);
}

/** Multipart bytes written by hand, not by the encoder: a part with its header lines, and a body closed after its parts. */
export function rawMultipart(boundary: string) {
  return {
    part: (headers: string[], data: Buffer | string) =>
      Buffer.concat([
        Buffer.from(`--${boundary}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`, 'latin1'),
        Buffer.from(data),
        Buffer.from('\r\n'),
      ]),
    closed: (...parts: Buffer[]) => Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]),
  };
}
