import busboy from 'busboy';
import { Readable } from 'node:stream';

export interface ParsedPart {
  name: string;
  filename: string | undefined;
  type: string;
  data: Buffer;
}

/** Parses a multipart body with busboy; field values are taken as raw bytes (latin1 maps them one to one). */
export async function parseWithBusboy(
  headers: Record<string, string>,
  body: Buffer | AsyncIterable<Uint8Array>,
): Promise<ParsedPart[]> {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const parser = busboy({
    headers: lower,
    preservePath: true,
    defParamCharset: 'utf8',
    defCharset: 'latin1',
    limits: {
      fieldSize: Infinity,
      fileSize: Infinity,
      files: Infinity,
      fields: Infinity,
      parts: Infinity,
      headerPairs: 2000,
    },
  });
  const parts: ParsedPart[] = [];
  const done = new Promise<void>((resolve, reject) => {
    parser.on('field', (name, value, info) => {
      parts.push({ name: name ?? '', filename: undefined, type: info.mimeType, data: Buffer.from(value, 'latin1') });
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      const part: ParsedPart = {
        name: name ?? '',
        filename: info.filename,
        type: info.mimeType,
        data: Buffer.alloc(0),
      };
      parts.push(part);
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => (part.data = Buffer.concat(chunks)));
    });
    parser.on('close', resolve);
    parser.on('error', reject);
  });
  (Buffer.isBuffer(body) ? Readable.from([body]) : Readable.from(body)).pipe(parser);
  await done;
  return parts;
}

export async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
