import { appendFileSync, mkdirSync, rmSync, truncateSync, unlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { multipartEncode, MultipartParam } from '../../src/index.js';
import { bytes, openFilesUnder, tempDir, writeFile } from '../helpers/files.js';

const dir = tempDir();

describe('files are opened when reached and closed when their part ends', () => {
  it('never holds more than one file open, and none before or after', async () => {
    const paths = Array.from({ length: 5 }, (_, i) => writeFile(dir, `lazy-${i}.bin`, bytes(50_000, i + 1)));
    const params = await Promise.all(paths.map((p, i) => MultipartParam.fromFile(`f${i}`, p)));
    const form = await multipartEncode([['first', 'text'], ...params.map((p) => [p.name!, p] as const)], {
      blockSize: 4096,
      syncReadLimit: 0,
    });
    expect(openFilesUnder(dir)).toEqual([]);
    let most = 0;
    for await (const _chunk of form.body) most = Math.max(most, openFilesUnder(dir).length);
    expect(most).toBe(1);
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('reads a small file whole and closes it before its bytes go out', async () => {
    const paths = Array.from({ length: 5 }, (_, i) => writeFile(dir, `small-${i}.bin`, bytes(1000, i + 1)));
    const params = await Promise.all(paths.map((p, i) => MultipartParam.fromFile(`f${i}`, p)));
    const form = await multipartEncode(params);
    let chunks = 0;
    for await (const _chunk of form.body) {
      chunks++;
      expect(openFilesUnder(dir)).toEqual([]);
    }
    expect(chunks).toBe(1); // five small files and their framing, gathered into one chunk
  });

  it('closes the file when the consumer breaks out early', async () => {
    const path = writeFile(dir, 'early.bin', bytes(1_000_000));
    const form = await multipartEncode({ f: await MultipartParam.fromFile('f', path) }, { blockSize: 65_536 });
    let chunks = 0;
    for await (const _chunk of form.body) {
      expect(openFilesUnder(dir)).toHaveLength(1);
      if (++chunks === 3) break;
    }
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('closes the file when the consumer abandons the iterator with return()', async () => {
    const path = writeFile(dir, 'return.bin', bytes(500_000));
    const form = await multipartEncode({ f: await MultipartParam.fromFile('f', path) }, { blockSize: 65_536 });
    const iterator = form.body[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    expect(openFilesUnder(dir)).toHaveLength(1);
    await iterator.return!();
    expect(openFilesUnder(dir)).toEqual([]);
  });
});

describe('a file that changes after its size was taken fails the stream, never the length', () => {
  it('grows, when small enough to be read whole', async () => {
    const path = writeFile(dir, 'small-grows.txt', 'abc');
    const form = await multipartEncode({ f: await MultipartParam.fromFile('f', path) });
    appendFileSync(path, 'd');
    await expect(
      (async () => {
        for await (const _ of form.body);
      })(),
    ).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
    writeFile(dir, 'small-grows.txt', 'ab');
    await expect(
      (async () => {
        for await (const _ of form.body);
      })(),
    ).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
  });

  async function sendWhile(change: (path: string) => void, initial = bytes(300_000)) {
    const path = writeFile(dir, `changing-${Math.random().toString(36).slice(2)}.bin`, initial);
    const form = await multipartEncode({ f: await MultipartParam.fromFile('f', path) }, { blockSize: 65_536 });
    let sent = 0;
    let error: unknown;
    try {
      for await (const chunk of form.body) {
        sent += chunk.length;
        if (sent > 100_000 && sent - chunk.length <= 100_000) change(path);
      }
    } catch (e) {
      error = e;
    }
    expect(openFilesUnder(dir)).toEqual([]);
    expect(sent).toBeLessThan(form.contentLength!);
    return error;
  }

  it('grows', async () => {
    expect(await sendWhile((p) => appendFileSync(p, 'more'))).toMatchObject({
      code: 'ERR_SIZE_MISMATCH',
      paramName: 'f',
    });
  });

  it('shrinks', async () => {
    const error = await sendWhile((p) => truncateSync(p, 150_000));
    expect(error).toMatchObject({ code: 'ERR_SIZE_MISMATCH', message: expect.stringContaining('shrank') });
  });

  it('grows by exactly one block past its old end', async () => {
    const error = await sendWhile((p) => appendFileSync(p, Buffer.alloc(65_536)), bytes(65_536 * 3));
    expect(error).toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
  });

  it('vanishes before its part is reached', async () => {
    const path = writeFile(dir, 'vanish.bin', 'abc');
    const form = await multipartEncode({ f: await MultipartParam.fromFile('f', path) });
    unlinkSync(path);
    await expect(
      (async () => {
        for await (const _ of form.body);
      })(),
    ).rejects.toMatchObject({
      code: 'ERR_FILE_UNREADABLE',
      paramName: 'f',
      message: expect.stringContaining('vanish.bin'),
    });
  });

  it('cannot be read (replaced by a directory)', async () => {
    const path = writeFile(dir, 'becomes-dir', 'abc');
    const form = await multipartEncode({ f: await MultipartParam.fromFile('f', path) });
    rmSync(path);
    mkdirSync(path);
    await expect(
      (async () => {
        for await (const _ of form.body);
      })(),
    ).rejects.toMatchObject({ code: 'ERR_FILE_UNREADABLE' });
    expect(openFilesUnder(dir)).toEqual([]);
  });
});
