import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * A module loaded on first use rather than on import: what the package's import costs is what
 * every process that imports it pays, used or not (node:crypto costs ~3 ms).
 */
export function lazily<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load(id) as T);
}
