import fc from 'fast-check';
import { lookup, types } from 'mime-types';
import { describe, expect, it } from 'vitest';
import { guessType } from '../../src/multipart/mime.js';

describe('guessType: the same answers as mime-types, without loading it', () => {
  it('for every extension mime-types knows, in any case, with any path before it', () => {
    for (const extension of Object.keys(types)) {
      for (const name of [`file.${extension}`, `dir.x/Name.${extension.toUpperCase()}`, extension, `.${extension}`]) {
        expect(guessType(name), name).toBe(lookup(name) || 'application/octet-stream');
      }
    }
  });

  it('for any filename', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (name) => {
        expect(guessType(name)).toBe(lookup(name) || 'application/octet-stream');
      }),
      { numRuns: 2000 },
    );
  });
});
