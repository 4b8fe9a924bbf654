import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * A module loaded on first use rather than on import: what the package's import costs is what
 * every process that imports it pays, used or not (node:crypto costs ~3 ms).
 */
export function lazily<T>(id: string): Lazily<T> {
  let loaded: T | undefined;
  const get = () => (loaded ??= load(id) as T);
  return Object.defineProperty(get, 'loaded', { get: () => loaded !== undefined }) as Lazily<T>;
}

/**
 * node:crypto where the package loads it lazily (boundaries, spool names, the parts engine's
 * digests and session store): one loader, so that `crypto.loaded` is true whichever of them
 * loaded it first. The receiver imports it directly.
 */
export const crypto = lazily<typeof import('node:crypto')>('node:crypto');

/** A module loaded on first call; `loaded` tells whether that call has been made. */
export interface Lazily<T> {
  (): T;
  readonly loaded: boolean;
}

/** A part of the library in a file of its own (a chunk of the build), loaded when first asked for. */
export interface OnFirstUse<T> {
  (): Promise<T>;
  /** The module once loaded (callers that must answer synchronously use it then), else undefined. */
  readonly loaded: T | undefined;
}

/**
 * Defers `load` (an `import()` of a part of the library) to the first call: the package's import
 * then compiles only what every user needs. A failed load is not kept: the next call tries again.
 */
export function onFirstUse<T>(load: () => Promise<T>): OnFirstUse<T> {
  let module: T | undefined;
  let loading: Promise<T> | undefined;
  const get = () =>
    (loading ??= load().then(
      (loadedModule) => (module = loadedModule),
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    ));
  return Object.defineProperty(get, 'loaded', { get: () => module }) as OnFirstUse<T>;
}
