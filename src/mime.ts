import { lazily } from './lazy.js';

export const OCTET_STREAM = 'application/octet-stream';

const mimeTypes = lazily<{ lookup: (filenameOrExtension: string) => string | false }>('mime-types');

/**
 * The Content-Type for a filename: `mime-types`' guess, else application/octet-stream.
 * mime-types (its database) is loaded on the first guess, not on import: it is most of
 * what importing this package would otherwise cost.
 */
export function guessType(filename: string | undefined): string {
  if (filename === undefined) return OCTET_STREAM;
  return mimeTypes().lookup(filename) || OCTET_STREAM;
}
