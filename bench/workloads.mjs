// The benchmark's workloads and their generated, deterministic data.
import { closeSync, existsSync, mkdirSync, openSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const DATA_DIR = join(import.meta.dirname, '.data');
const MiB = 1024 * 1024;

/** Sizes for the full run and for --quick. */
export function workloadSizes(quick) {
  return quick
    ? { w1Bytes: 256 * MiB, w2Files: 20, w3Fields: 20_000, w3Small: 2_000, w4Files: 500, bigBytes: 1024 * MiB }
    : { w1Bytes: 1024 * MiB, w2Files: 100, w3Fields: 100_000, w3Small: 10_000, w4Files: 2_000, bigBytes: 4096 * MiB };
}

/** A deterministic block of pseudo-random bytes; `seed` varies it per file. */
function block(size, seed) {
  const out = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  return out;
}

function writeSized(path, bytes, seed) {
  if (existsSync(path) && statSync(path).size === bytes) return;
  const fd = openSync(path, 'w');
  const chunk = block(Math.min(bytes, MiB), seed);
  for (let written = 0; written < bytes; written += chunk.length) {
    chunk.writeUInt32LE(written / MiB, 0); // no two MiB alike
    writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
  }
  closeSync(fd);
}

// Named by size, so a quick run never rewrites the full run's data.
const w1Path = (sizes) => join(DATA_DIR, `w1-${sizes.w1Bytes / MiB}MiB.bin`);
const bigPath = (sizes) => join(DATA_DIR, `sparse-${sizes.bigBytes / MiB}MiB.bin`);

/** Creates whatever data the sizes need; cheap when it already exists. */
export function prepareData(sizes) {
  mkdirSync(join(DATA_DIR, 'w2'), { recursive: true });
  mkdirSync(join(DATA_DIR, 'w4'), { recursive: true });
  writeSized(w1Path(sizes), sizes.w1Bytes, 1);
  for (let i = 0; i < sizes.w2Files; i++) writeSized(join(DATA_DIR, 'w2', `${i}.bin`), 8 * MiB, i + 2);
  for (let i = 0; i < sizes.w4Files; i++) {
    const path = join(DATA_DIR, 'w4', `${i}.bin`);
    if (!existsSync(path)) writeFileSync(path, block(4096, i + 1000));
  }
  const sparse = bigPath(sizes);
  if (!existsSync(sparse) || statSync(sparse).size !== sizes.bigBytes) {
    writeFileSync(sparse, '');
    truncateSync(sparse, sizes.bigBytes);
  }
}

/**
 * A workload as every subject sees it: text fields as [name, value] and files as
 * { name, path, filename } (W3 has only fields, the others a few fields and files).
 */
export function describeWorkload(id, sizes) {
  const files = (paths) => paths.map((path, i) => ({ name: `file${i}`, path, filename: path.split('/').pop() }));
  const twoFields = [
    ['title', 'benchmark upload'],
    ['note', 'two text fields beside the files'],
  ];
  switch (id) {
    case 'W1':
    case 'W5':
    case 'W5-pinned':
      return { fields: twoFields, files: files([w1Path(sizes)]) };
    case 'W2':
      return { fields: twoFields, files: files(Array.from({ length: sizes.w2Files }, (_, i) => join(DATA_DIR, 'w2', `${i}.bin`))) };
    case 'W3':
    case 'W3-small': {
      const count = id === 'W3' ? sizes.w3Fields : sizes.w3Small;
      return { fields: Array.from({ length: count }, (_, i) => [`f${i}`, `value-${String(i).padStart(12, '0')}`]), files: [] };
    }
    case 'W4':
      return { fields: twoFields, files: files(Array.from({ length: sizes.w4Files }, (_, i) => join(DATA_DIR, 'w4', `${i}.bin`))) };
    case 'BIG':
      return { fields: twoFields, files: files([bigPath(sizes)]) };
    default:
      throw new Error(`unknown workload ${id}`);
  }
}
