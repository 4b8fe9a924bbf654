import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanUpAfter } from './cleanup.js';

/** A temporary directory, removed when the test (or, made outside a test, the file) that made it ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'multipart-poster-test-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  cleanUpAfter(remove);
  return dir;
}

export function writeFile(dir: string, name: string, data: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

/** Deterministic pseudo-random bytes. */
export function bytes(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Paths of this process's open descriptors that point at files under `dir`. */
export function openFilesUnder(dir: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSafe(`/proc/self/fd/${fd}`);
      if (target?.startsWith(dir)) open.push(target);
    } catch {
      // the descriptor closed while we looked
    }
  }
  return open;
}

function readlinkSafe(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
