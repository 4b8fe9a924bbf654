import { MultipartError } from '../common/errors.js';

/** A Buffer over the same memory as `bytes` (a view, never a copy: the bytes may be large). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The length each part's bytes had when the part took them; held weakly, with the bytes. */
const takenLengths = new WeakMap<Uint8Array, number>();

/**
 * Bytes as a part holds them, not copied: a view whose length cannot follow a resizable (or
 * growable) buffer, and their length noted now. A buffer resized or transferred (detached) later
 * then disagrees with what the part declared, and the body fails with ERR_SIZE_MISMATCH (see
 * `bytesLength`), whether that happens before the body is encoded or after.
 */
export function takeBytes(bytes: Uint8Array): Uint8Array {
  const buffer = bytes.buffer as { resizable?: boolean; growable?: boolean };
  const held =
    buffer.resizable || buffer.growable ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
  // The first length noted stands: a buffer that is not resizable only ever shrinks, to 0, when transferred.
  if (!takenLengths.has(held)) takenLengths.set(held, held.byteLength);
  return held;
}

/** The length of bytes as their part took them (`takeBytes`), else as they are now: what the body is planned with. */
export function bytesLength(bytes: Uint8Array): number {
  return takenLengths.get(bytes) ?? bytes.byteLength;
}

/** Throws ERR_SIZE_MISMATCH when bytes no longer have the length they were planned with (resized or transferred since). */
export function checkBytesLength(bytes: Uint8Array, planned: number, label: string | undefined): void {
  if (bytes.byteLength === planned) return;
  throw new MultipartError(
    'ERR_SIZE_MISMATCH',
    `its bytes changed length from ${planned} to ${bytes.byteLength} after they were given (resized or detached buffer)`,
    { paramName: label },
  );
}
