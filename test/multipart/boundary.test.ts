import { describe, expect, it } from 'vitest';
import {
  assertValidBoundary,
  formDataContentType,
  genBoundary,
  isValidBoundary,
} from '../../src/multipart/boundary.js';
import { MultipartError } from '../../src/common/errors.js';

describe('genBoundary', () => {
  it('is RFC 2046-valid, never repeats, and carries at least 128 random bits', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const boundary = genBoundary();
      expect(isValidBoundary(boundary)).toBe(true);
      expect(boundary.length).toBeLessThanOrEqual(70);
      seen.add(boundary);
    }
    expect(seen.size).toBe(2000);
    const random = genBoundary().replace('----multipartposter', '');
    expect(random).toMatch(/^[0-9a-f]{32}$/); // 32 hex digits = 128 bits
  });
});

describe('isValidBoundary', () => {
  it.each(['a', 'B'.repeat(70), "0-9A-Za-z'()+_,-./:=?", 'with space inside'])('accepts %j', (b) => {
    expect(isValidBoundary(b)).toBe(true);
  });
  it.each(['', 'B'.repeat(71), 'ends in space ', 'per%cent', 'quo"te', 'new\nline', 'semi;colon', 'ünï'])(
    'rejects %j',
    (b) => {
      expect(isValidBoundary(b)).toBe(false);
      expect(() => assertValidBoundary(b)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_BOUNDARY' }));
    },
  );
  it('rejects non-strings with a typed error', () => {
    expect(() => assertValidBoundary(42)).toThrow(MultipartError);
  });
});

describe('formDataContentType', () => {
  it('quotes a boundary with tspecials or spaces, as Go does', () => {
    expect(formDataContentType('abc')).toBe('multipart/form-data; boundary=abc');
    expect(formDataContentType('a b')).toBe('multipart/form-data; boundary="a b"');
    expect(formDataContentType('a=b')).toBe('multipart/form-data; boundary="a=b"');
    expect(formDataContentType("a'b")).toBe("multipart/form-data; boundary=a'b");
  });
});
