import { createRequire } from 'node:module';

export const OCTET_STREAM = 'application/octet-stream';

type Lookup = (filenameOrExtension: string) => string | false;
let lookup: Lookup | undefined;

/**
 * The Content-Type for a filename: `mime-types`' guess, else application/octet-stream.
 * mime-types (its database) is loaded on the first guess, not on import: it is most of
 * what importing this package would otherwise cost.
 */
export function guessType(filename: string | undefined): string {
  if (filename === undefined) return OCTET_STREAM;
  lookup ??= (createRequire(import.meta.url)('mime-types') as { lookup: Lookup }).lookup;
  return lookup(filename) || OCTET_STREAM;
}
