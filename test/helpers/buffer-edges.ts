/** Sizes at the edges of every buffer a stream meets: empty, one byte, 16 KiB, 64 KiB and 1 MiB, each ± 1. */
export const EDGE_SIZES = [0, 1, 16383, 16384, 16385, 65535, 65536, 65537, 1048575, 1048576, 1048577];

/** `data` in chunks of `size` bytes (the last one shorter), each a copy the consumer may keep. */
export function chunksOf(data: Buffer, size: number): Buffer[] {
  if (data.length === 0) return [];
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) chunks.push(Buffer.from(data.subarray(at, at + size)));
  return chunks;
}

/** Every way to cut `data` in two: [before, after] for each position, 0 and the end included. */
export function everySplit(data: Buffer): Buffer[][] {
  const splits: Buffer[][] = [];
  for (let at = 0; at <= data.length; at++) splits.push([data.subarray(0, at), data.subarray(at)]);
  return splits;
}

/** An async generator over `chunks`, as a caller's stream. */
export async function* streamOf(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}
