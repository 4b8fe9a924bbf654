// The benchmark's workloads and their generated, deterministic data.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export const DATA_DIR = join(import.meta.dirname, '.data');
const MiB = 1024 * 1024;

/**
 * Sizes for the full run and for --quick. W7 (32 uploads of 32 MiB at once) keeps its size in
 * --quick: what it measures is memory, which depends on it.
 */
export function workloadSizes(quick) {
  // FETCH keeps its size in --quick too: what it measures is memory (a Blob body read whole, or not).
  const w7 = { w7Bytes: 32 * MiB, w7Count: 32, fetchBytes: 512 * MiB };
  return quick
    ? {
        w1Bytes: 256 * MiB,
        w2Files: 20,
        w3Fields: 20_000,
        w3Small: 2_000,
        w4Files: 500,
        bigBytes: 1024 * MiB,
        coldSamples: 3,
        ...w7,
      }
    : {
        w1Bytes: 1024 * MiB,
        w2Files: 100,
        w3Fields: 100_000,
        w3Small: 10_000,
        w4Files: 2_000,
        bigBytes: 4096 * MiB,
        coldSamples: 5,
        ...w7,
      };
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
const w7Path = (sizes) => join(DATA_DIR, `w7-${sizes.w7Bytes / MiB}MiB.bin`);
const fetchPath = (sizes) => join(DATA_DIR, `fetch-${sizes.fetchBytes / MiB}MiB.bin`);

/** Creates whatever data the sizes need; cheap when it already exists. */
export function prepareData(sizes) {
  mkdirSync(join(DATA_DIR, 'w2'), { recursive: true });
  mkdirSync(join(DATA_DIR, 'w4'), { recursive: true });
  writeSized(w1Path(sizes), sizes.w1Bytes, 1);
  writeSized(w7Path(sizes), sizes.w7Bytes, 7);
  writeSized(fetchPath(sizes), sizes.fetchBytes, 8);
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
 * { name, path, filename } (W3 has only fields, the others a few fields and files), and how
 * the worker runs it (`kind`): encode (W1–W4, BIG), upload to the server (W5, W6), either of
 * those under an event-loop monitor (the -loop workloads), `count` uploads at once (W7), or
 * fresh processes started (COLD). With `verify`, every run's upload is checked (checkReport in
 * verify.mjs): the receiver hashes what it parsed.
 */
export function describeWorkload(id, sizes) {
  const files = (paths) => paths.map((path, i) => ({ name: `file${i}`, path, filename: path.split('/').pop() }));
  const twoFields = [
    ['title', 'benchmark upload'],
    ['note', 'two text fields beside the files'],
  ];
  const w1 = { fields: twoFields, files: files([w1Path(sizes)]) };
  const w4 = {
    fields: twoFields,
    files: files(Array.from({ length: sizes.w4Files }, (_, i) => join(DATA_DIR, 'w4', `${i}.bin`))),
  };
  switch (id) {
    case 'W1':
      return { kind: 'encode', ...w1 };
    case 'W5':
    case 'W5-pinned':
      return { kind: 'upload', ...w1 };
    case 'W6':
      return { kind: 'upload', verify: true, ...w1 };
    case 'W2':
      return {
        kind: 'encode',
        fields: twoFields,
        files: files(Array.from({ length: sizes.w2Files }, (_, i) => join(DATA_DIR, 'w2', `${i}.bin`))),
      };
    case 'W3':
    case 'W3-small': {
      const count = id === 'W3' ? sizes.w3Fields : sizes.w3Small;
      return {
        kind: 'encode',
        fields: Array.from({ length: count }, (_, i) => [`f${i}`, `value-${String(i).padStart(12, '0')}`]),
        files: [],
      };
    }
    case 'W4':
      return { kind: 'encode', ...w4 };
    case 'BIG':
      return { kind: 'encode', fields: twoFields, files: files([bigPath(sizes)]) };
    case 'W1-loop':
      return { kind: 'loop-encode', verify: true, ...w1 };
    case 'W4-loop':
      return { kind: 'loop-encode', verify: true, ...w4 };
    case 'W5-loop':
      return { kind: 'loop-upload', verify: true, ...w1 };
    case 'W7':
      return { kind: 'many', verify: true, count: sizes.w7Count, fields: twoFields, files: files([w7Path(sizes)]) };
    case 'FETCH':
      return { kind: 'fetch', verify: true, fields: twoFields, files: files([fetchPath(sizes)]) };
    case 'COLD':
      return { kind: 'cold', samples: sizes.coldSamples, fields: [], files: [] };
    default:
      throw new Error(`unknown workload ${id}`);
  }
}

const DIGESTS = join(DATA_DIR, 'sha256.json');

/** SHA-256 (hex) of each file, cached in .data/sha256.json by path, size and mtime. */
export function fileDigests(paths) {
  let cache = {};
  try {
    cache = JSON.parse(readFileSync(DIGESTS, 'utf8'));
  } catch {}
  let changed = false;
  const digests = paths.map((path) => {
    const { size, mtimeMs } = statSync(path);
    const known = cache[path];
    if (known && known.size === size && known.mtimeMs === mtimeMs) return known.sha256;
    const hash = createHash('sha256');
    const fd = openSync(path, 'r');
    const buffer = Buffer.allocUnsafe(Math.min(size, MiB) || 1);
    for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0;) hash.update(buffer.subarray(0, n));
    closeSync(fd);
    cache[path] = { size, mtimeMs, sha256: hash.digest('hex') };
    changed = true;
    return cache[path].sha256;
  });
  if (changed) writeFileSync(DIGESTS, JSON.stringify(cache));
  return digests;
}

/** What the server must receive for one upload of a workload, in order (see checkReport in verify.mjs). */
export function expectedParts({ fields, files }) {
  const digests = fileDigests(files.map((file) => file.path));
  return [
    ...fields.map(([name, value]) => ({ name, value })),
    ...files.map((file, i) => ({
      name: file.name,
      filename: file.filename,
      size: statSync(file.path).size,
      sha256: digests[i],
    })),
  ];
}
