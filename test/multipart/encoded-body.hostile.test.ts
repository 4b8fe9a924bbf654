import { appendFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { multipartEncode, MultipartError, MultipartParam } from '../../src/index.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { collect } from '../helpers/parse.js';

// Encoded bodies against a hostile caller: forged or changed after they were measured, Blob-likes
// that lie, misspelt options, files changed under toBlob(). Each row ends typed, exact and clean.
const dir = tempDir();

async function codeOf(make: () => unknown): Promise<string | undefined> {
  try {
    await make();
  } catch (error) {
    expect(error).toBeInstanceOf(MultipartError);
    return (error as MultipartError).code;
  }
  return undefined;
}

describe('encoded bodies cannot be made to disagree with themselves', () => {
  it('the result and its headers are frozen: what upload() sends is what was measured', async () => {
    const form = await multipartEncode({ a: 'b' });
    expect(Object.isFrozen(form) && Object.isFrozen(form.headers)).toBe(true);
    expect(() => {
      (form.headers as Record<string, string>)['Content-Length'] = '1';
    }).toThrow(TypeError);
  });

  it("a forged nested body (its boundary not its pieces') is refused", async () => {
    const real = await multipartEncode([new MultipartParam(null, { value: 'x' })], {
      subtype: 'mixed',
      boundary: 'OUTER-inner',
    });
    const forged = { boundary: 'safe', headers: { 'Content-Type': 'multipart/mixed; boundary=safe' }, body: real.body };
    expect(await codeOf(() => new MultipartParam('n', { value: forged }))).toBe('ERR_INVALID_VALUE');
    const injected = {
      boundary: real.boundary,
      headers: { 'Content-Type': `${real.headers['Content-Type']}\r\nX-Injected: 1` },
      body: real.body,
    };
    expect(await codeOf(() => new MultipartParam('n', { value: injected }))).toBe('ERR_INVALID_HEADER_VALUE');
  });

  it.each(['boundary*', 'boundary*0', 'BOUNDARY*1*'])('a %s parameter cannot name a second boundary', async (key) => {
    expect(
      await codeOf(() =>
        multipartEncode([new MultipartParam(null, { value: 'x' })], {
          subtype: 'related',
          parameters: { [key]: 'EVIL' },
        }),
      ),
    ).toBe('ERR_INVALID_OPTION');
  });

  it("a Blob-like's size is taken once and must be a whole number", async () => {
    let size = 3;
    const liar = {
      get size() {
        return size;
      },
      type: '',
      stream: () => new Blob(['abcdefgh']).stream(),
      slice: () => liar,
      arrayBuffer: async () => new ArrayBuffer(0),
    };
    const form = await multipartEncode({ f: liar as never });
    size = 8;
    await expect(collect(form.body)).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
    for (const bad of [NaN, -1, 1.5]) {
      expect(await codeOf(() => new MultipartParam('f', { fileobj: { ...liar, size: bad } as never }))).toBe(
        'ERR_INVALID_VALUE',
      );
    }
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('boom');
      },
    ],
    ['gives null', () => null],
    ['gives a plain object', () => ({})],
  ])('a Blob-like whose stream() %s fails the stream with ERR_SOURCE_FAILED', async (_label, stream) => {
    const blob = { size: 1, type: '', stream, slice: () => blob, arrayBuffer: async () => new ArrayBuffer(1) };
    const form = await multipartEncode({ f: blob as never });
    await expect(collect(form.body)).rejects.toMatchObject({ code: 'ERR_SOURCE_FAILED', paramName: 'f' });
  });

  it('misspelt options of MultipartParam and fromFile are errors, never ignored', async () => {
    expect(await codeOf(() => new MultipartParam('f', { value: 'x', header: {} } as never))).toBe('ERR_INVALID_OPTION');
    const path = writeFile(dir, 'opts.txt', 'abcdefgh');
    expect(await codeOf(() => MultipartParam.fromFile('f', path, { start: 2, stop: 4 } as never))).toBe(
      'ERR_INVALID_OPTION',
    );
  });

  it('an error inside a nameless nested part names the outer field', async () => {
    const path = writeFile(dir, 'nested-change.txt', 'abc');
    const inner = await multipartEncode([await MultipartParam.fromFile(null, path)], { subtype: 'mixed' });
    const form = await multipartEncode({ files: inner });
    appendFileSync(path, 'more');
    await expect(collect(form.body)).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'files' });
  });
});

describe("toBlob() keeps the stream body's guarantees", () => {
  it('a chosen boundary is checked in file data too', async () => {
    const path = writeFile(
      dir,
      'holds-delimiter.txt',
      'x\r\n--Chosen\r\nContent-Disposition: form-data; name="role"\r\n\r\nadmin',
    );
    const form = await multipartEncode({ doc: await MultipartParam.fromFile('doc', path) }, { boundary: 'Chosen' });
    await expect(form.toBlob()).rejects.toMatchObject({ code: 'ERR_BOUNDARY_IN_DATA', paramName: 'doc' });
  });

  it('a file changed or removed since it was measured is refused, typed', async () => {
    const changed = writeFile(dir, 'changed.txt', 'original');
    const form = await multipartEncode({ f: await MultipartParam.fromFile('f', changed) });
    writeFile(dir, 'changed.txt', 'REPLACED');
    await expect(form.toBlob()).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH', paramName: 'f' });
    const gone = writeFile(dir, 'gone.txt', 'here');
    const form2 = await multipartEncode({ f: await MultipartParam.fromFile('f', gone) });
    rmSync(gone);
    await expect(form2.toBlob()).rejects.toMatchObject({ code: 'ERR_FILE_UNREADABLE', paramName: 'f' });
  });
});
