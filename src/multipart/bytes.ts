import { MultipartError } from '../common/errors.js';

/** A Buffer over the same memory as `bytes` (a view, never a copy: the bytes may be large). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Bytes the library made and keeps for every pass (a part's head, a spooled stream held in memory): a consumer
 * gets them only as copies, so that what it does with a chunk (fills it, transfers its buffer)
 * cannot change the next pass. A caller's own bytes are handed out as they are.
 */
const ownBytes = new WeakSet<Uint8Array>();

/** Marks bytes as the library's own (see ownBytes). */
export function keptPrivate<T extends Uint8Array>(bytes: T): T {
  ownBytes.add(bytes);
  return bytes;
}

/** Whether these are the library's own bytes (see ownBytes): a consumer gets a copy of them. */
export function isKeptPrivate(bytes: Uint8Array): boolean {
  return ownBytes.has(bytes);
}

/** The length each part's bytes had when the part took them; held weakly, with the bytes. */
const takenLengths = new WeakMap<Uint8Array, number>();

/**
 * Bytes as a part holds them, not copied: a view whose length cannot follow a resizable (or
 * growable) buffer, and their length noted now. A buffer resized or transferred (detached) later
 * then disagrees with what the part declared, and the body fails with ERR_SIZE_MISMATCH (see
 * `bytesLength`), whether that happens before the body is encoded or after.
 */
export function takeBytes(bytes: Uint8Array, label?: string): Uint8Array {
  // Bytes detached before any part took them have no length to hold them to: refused (see assertAttached).
  if (bytes.byteLength === 0 && !takenLengths.has(bytes)) assertAttached(bytes.buffer, label);
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

/** Throws ERR_SIZE_MISMATCH when bytes no longer have the length their part took them with (`takeBytes`). */
export function assertTakenLength(bytes: Uint8Array, label: string | undefined): void {
  checkBytesLength(bytes, bytesLength(bytes), label);
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

/**
 * Refuses bytes over an ArrayBuffer transferred (detached) before they were given: there is no
 * memory left to read, and sending them as empty would send another body than the caller meant.
 */
export function assertAttached(buffer: ArrayBufferLike, label: string | undefined): void {
  if (!isDetached(buffer)) return;
  throw new MultipartError(
    'ERR_INVALID_VALUE',
    'its bytes are over an ArrayBuffer that was transferred (detached), which holds nothing to send; give them before transferring the buffer, or a copy',
    { paramName: label },
  );
}

export function isDetached(buffer: ArrayBufferLike): boolean {
  if (buffer.byteLength !== 0) return false;
  const detached = (buffer as { detached?: unknown }).detached; // Node 22 and later
  if (typeof detached === 'boolean') return detached;
  try {
    new Uint8Array(buffer, 0, 0); // Node 20: only a detached buffer refuses a view
    return false;
  } catch {
    return true;
  }
}
