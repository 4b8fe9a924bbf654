import { httpUrl } from './protocol-options.js';

/**
 * Checks of a saved session's state, which comes from a file a person or another version may have
 * written: every field the protocol reads, of the type it reads, so that a resumed run never
 * throws a TypeError on it, nor sends a plan that is not a whole one of the file.
 */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A byte count or offset: a whole number, 0 or more. */
export function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

export function isOptionalString(value: unknown): value is string | undefined {
  return value === undefined || typeof value === 'string';
}

/** A URL the session's requests go to: http(s) alone, as the protocol's own options are. */
export function isHttpUrl(value: unknown): value is string {
  return typeof value === 'string' && httpUrl(value) !== undefined;
}

/** Whether `partSize` is one the protocol would choose or accept for `size` bytes (S3's 10,000 parts, Google's 256 KiB). */
export function acceptsPartSize(
  choose: (size: number, requested: number | undefined) => number,
  size: number,
  partSize: number,
): boolean {
  try {
    return choose(size, partSize) === partSize;
  } catch {
    return false;
  }
}
