/** The extension table for src/multipart/mime.ts, from mime-types: `type ext ext...` per line. */
export function mimeTable(): string;
