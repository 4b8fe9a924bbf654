import { describe, expect, it } from 'vitest';
import FormData from '../../src/form-data/index.js';
import { multipartEncode, MultipartParam, rawBody } from '../../src/index.js';

// Bytes transferred (detached) before any part took them hold nothing to send: they are refused
// with ERR_INVALID_VALUE naming the field, never sent as an empty part nor failing with a bare
// TypeError. (Bytes a part took before they were detached fail with ERR_SIZE_MISMATCH instead:
// see param.test.ts.)

function detachedBuffer(): ArrayBuffer {
  const buffer = new ArrayBuffer(8);
  structuredClone(buffer, { transfer: [buffer] });
  return buffer;
}
/** A view made, then its buffer transferred: a view over a detached buffer cannot be made after. */
function detached<T>(view: (buffer: ArrayBuffer) => T): T {
  const buffer = new ArrayBuffer(8);
  const made = view(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return made;
}
const detachedView = () => detached((buffer) => new Uint8Array(buffer));
const invalid = { name: 'MultipartError', code: 'ERR_INVALID_VALUE' };

describe('bytes detached before they are given are refused', () => {
  it.each([
    ['an ArrayBuffer value, random boundary', () => multipartEncode({ x: detachedBuffer() })],
    ['a Uint8Array value, random boundary', () => multipartEncode({ x: detachedView() })],
    ['a Uint8Array value, chosen boundary', () => multipartEncode({ x: detachedView() }, { boundary: 'B' })],
    ['new MultipartParam', async () => new MultipartParam('x', { value: detachedView() })],
  ])('%s: ERR_INVALID_VALUE naming the field', async (_what, encode) => {
    await expect(encode()).rejects.toMatchObject({ ...invalid, paramName: 'x' });
  });

  it('rawBody of a detached view: ERR_INVALID_VALUE, not an empty body', async () => {
    await expect(rawBody(detachedView())).rejects.toMatchObject({ ...invalid, paramName: 'body' });
  });

  it.each([
    ['an ArrayBuffer', detachedBuffer],
    ['a Uint8Array', detachedView],
    ['a DataView', () => detached((buffer) => new DataView(buffer))],
  ])("the form-data drop-in's append of %s", (_what, make) => {
    expect(() => new FormData().append('x', make() as never)).toThrow(expect.objectContaining(invalid));
  });

  it('empty bytes that were never detached are an empty part', async () => {
    const encoded = await rawBody(new Uint8Array(new ArrayBuffer(0)));
    expect(encoded.contentLength).toBe(0);
  });
});

describe('bytes given as the whole params', () => {
  it.each([
    ['a Uint8Array', () => new Uint8Array(3)],
    ['a detached Uint8Array', detachedView],
    ['an ArrayBuffer', () => new ArrayBuffer(3)],
    ['a detached ArrayBuffer', detachedBuffer],
    ['a DataView', () => new DataView(new ArrayBuffer(3))],
  ])('%s: ERR_INVALID_PARAMS saying where bytes go, never a bare TypeError', async (_what, make) => {
    await expect(multipartEncode(make() as never)).rejects.toMatchObject({
      name: 'MultipartError',
      code: 'ERR_INVALID_PARAMS',
      message: expect.stringContaining('rawBody()'),
    });
  });
});
