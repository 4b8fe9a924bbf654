import { expect } from 'vitest';
import { MultipartError } from '../../src/index.js';
import { collect } from './parse.js';

/**
 * Reads a body whole: its bytes, or, when it fails, `"CODE field"` (the MultipartError's code and
 * paramName), so a table row can say either. Anything but a MultipartError fails the test.
 */
export async function drainOrCode(body: AsyncIterable<Uint8Array>): Promise<Buffer | string> {
  try {
    return await collect(body);
  } catch (error) {
    expect(error).toBeInstanceOf(MultipartError);
    return `${(error as MultipartError).code} ${(error as MultipartError).paramName ?? ''}`.trim();
  }
}
