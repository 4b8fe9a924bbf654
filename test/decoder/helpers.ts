import { multipartDecode } from '../../src/decoder/decode.js';
import type { DecodeOptions } from '../../src/decoder/options.js';
import type { DecodeSource } from '../../src/decoder/source.js';

/** `body` cut into chunks of `size` bytes (the last one shorter). */
export function chunksOf(body: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out;
}

/** `body` cut at each of `positions` (ascending). */
export function splitAt(body: Buffer, ...positions: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const at of positions) {
    out.push(body.subarray(from, at));
    from = at;
  }
  out.push(body.subarray(from));
  return out;
}

export interface Decoded {
  name: string | undefined;
  filename: string | undefined;
  contentType: string | undefined;
  rawHeaders: (readonly [string, string])[];
  data: Buffer;
}

/** Every part of a body, read whole. */
export async function decodeAll(source: DecodeSource, options?: DecodeOptions): Promise<Decoded[]> {
  const parts: Decoded[] = [];
  for await (const part of multipartDecode(source, options)) {
    const pieces: Buffer[] = [];
    for await (const piece of part) pieces.push(Buffer.from(piece));
    parts.push({
      name: part.name,
      filename: part.filename,
      contentType: part.contentType,
      rawHeaders: [...part.rawHeaders],
      data: Buffer.concat(pieces),
    });
  }
  return parts;
}

/** The rejection's DecodeError code and offset, or a failure if it resolves. */
export async function failure(
  promise: Promise<unknown>,
): Promise<{ code: string; offset: number | undefined; message: string }> {
  try {
    await promise;
  } catch (error) {
    const { code, offset, message } = error as { code: string; offset: number | undefined; message: string };
    return { code, offset, message };
  }
  throw new Error('expected a rejection');
}
