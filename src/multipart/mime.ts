import { extname } from 'node:path';

export const OCTET_STREAM = 'application/octet-stream';

/** mime-types' table, put in by the build (scripts/mime-table.mjs): `type ext ext...` per line. */
declare const MIME_TABLE: string;

let byExtension: Map<string, string> | undefined;

/**
 * The Content-Type for a filename, as mime-types' `lookup` guesses it (the same extension rule,
 * the same table), else application/octet-stream. The table is read on the first guess: under a
 * millisecond, where loading mime-types and its database took 10 to 30.
 */
export function guessType(filename: string | undefined): string {
  return (filename !== undefined && lookupType(filename)) || OCTET_STREAM;
}

/** The Content-Type the table gives a filename's extension, or undefined when it has none (a guess can then come from elsewhere). */
export function lookupType(filename: string): string | undefined {
  if (byExtension === undefined) {
    byExtension = new Map();
    for (const line of MIME_TABLE.split('\n')) {
      const [type, ...extensions] = line.split(' ');
      for (const extension of extensions) byExtension.set(extension, type!);
    }
  }
  const extension = extname(`x.${filename}`).toLowerCase().slice(1);
  return extension === '' ? undefined : byExtension.get(extension);
}
