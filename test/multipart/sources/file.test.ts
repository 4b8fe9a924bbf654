import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MultipartError, multipartEncode, MultipartParam } from '../../../src/index.js';
import { bytes, openFilesUnder, tempDir, writeFile } from '../../helpers/files.js';
import { collect } from '../../helpers/parse.js';
import { drainOrCode } from '../../helpers/outcome.js';

// A file part (src/multipart/sources/file.ts, through MultipartParam.fromFile): measured by stat,
// opened when its part is reached, closed when it ends, and refused typed when it changed.

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

  async function sendWhile(change: (path: string) => void, initial = bytes(300_000), prepare?: (path: string) => void) {
    const path = writeFile(dir, `changing-${Math.random().toString(36).slice(2)}.bin`, initial);
    prepare?.(path);
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

  it('is rewritten in place, the same size, while it is read: fails before its last block', async () => {
    // The file's mtime is set in the past first, so that the rewrite moves it whatever the clock's tick.
    const error = await sendWhile(
      (p) => {
        writeFileSync(p, Buffer.alloc(300_000, 0x41), { flag: 'r+' });
      },
      bytes(300_000),
      (p) => utimesSync(p, 1_000_000, 1_000_000),
    );
    expect(error).toMatchObject({ code: 'ERR_SIZE_MISMATCH', message: expect.stringContaining('was modified') });
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

describe('fromFile: hostile paths, ranges and options', () => {
  const content = 'abcdefghij';
  const path = writeFile(dir, 'ten.txt', content);
  const fifo = join(dir, 'a-fifo');
  execFileSync('mkfifo', [fifo]);
  const link = join(dir, 'link-to-ten');
  symlinkSync(path, link);
  const dangling = join(dir, 'dangling');
  symlinkSync(join(dir, 'nowhere'), dangling);

  it.each<[string, () => Promise<MultipartParam>, string]>([
    ['a path that is not a string', () => MultipartParam.fromFile('f', 42 as never), 'ERR_INVALID_VALUE f'],
    ['a Buffer path', () => MultipartParam.fromFile('f', Buffer.from(path) as never), 'ERR_INVALID_VALUE f'],
    ['a missing file', () => MultipartParam.fromFile('f', join(dir, 'missing')), 'ERR_FILE_UNREADABLE f'],
    ['a directory', () => MultipartParam.fromFile('f', dir), 'ERR_FILE_UNREADABLE f'],
    ['a FIFO (never opened, so nothing blocks)', () => MultipartParam.fromFile('f', fifo), 'ERR_FILE_UNREADABLE f'],
    ['a character device', () => MultipartParam.fromFile('f', '/dev/zero'), 'ERR_FILE_UNREADABLE f'],
    ['a dangling link', () => MultipartParam.fromFile('f', dangling), 'ERR_FILE_UNREADABLE f'],
    ['a start past the end', () => MultipartParam.fromFile('f', path, { start: 11 }), 'ERR_INVALID_RANGE f'],
    ['an end past the end', () => MultipartParam.fromFile('f', path, { end: 11 }), 'ERR_INVALID_RANGE f'],
    ['a start after the end', () => MultipartParam.fromFile('f', path, { start: 5, end: 4 }), 'ERR_INVALID_RANGE f'],
    ['a negative start', () => MultipartParam.fromFile('f', path, { start: -1 }), 'ERR_INVALID_RANGE f'],
    ['a NaN end', () => MultipartParam.fromFile('f', path, { end: NaN }), 'ERR_INVALID_RANGE f'],
    ['an Infinity end', () => MultipartParam.fromFile('f', path, { end: Infinity }), 'ERR_INVALID_RANGE f'],
    ['a fractional start', () => MultipartParam.fromFile('f', path, { start: 0.5 }), 'ERR_INVALID_RANGE f'],
    ['a misspelt option', () => MultipartParam.fromFile('f', path, { stop: 4 } as never), 'ERR_INVALID_OPTION f'],
    ['options that are not an object', () => MultipartParam.fromFile('f', path, 'x' as never), 'ERR_INVALID_OPTION f'],
    [
      'a filetype with CRLF',
      () => MultipartParam.fromFile('f', path, { filetype: 'a\r\nb' }),
      'ERR_INVALID_HEADER_VALUE f',
    ],
  ])('%s is refused', async (_label, make, expected) => {
    const error = await make().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MultipartError);
    expect(`${(error as MultipartError).code} ${(error as MultipartError).paramName}`).toBe(expected);
  });

  it.each<[string, { start?: number; end?: number } | undefined, string]>([
    ['the whole file', undefined, content],
    ['a range', { start: 2, end: 5 }, 'cde'],
    ['an empty range at the start', { start: 0, end: 0 }, ''],
    ['an empty range at the end', { start: 10, end: 10 }, ''],
    ['from a start to the end', { start: 7 }, 'hij'],
    ['-0 as a bound', { start: -0, end: 3 }, 'abc'],
  ])('%s is sent exactly, read in blocks and read whole', async (_label, range, expected) => {
    for (const syncReadLimit of [0, 1024]) {
      for (const source of [path, link]) {
        const param = await MultipartParam.fromFile('f', source, range);
        expect(param.size).toBe(expected.length);
        const form = await multipartEncode([param], { boundary: 'B', blockSize: 3, syncReadLimit });
        const body = (await collect(form.body)).toString();
        expect(body.slice(body.indexOf('\r\n\r\n') + 4, -'\r\n--B--\r\n'.length)).toBe(expected);
      }
    }
  });
});

describe('fromFile made for many files at once', () => {
  it('measures every file, a few at a time, each param its own file; a failure among them is that one only', async () => {
    const many = join(dir, 'many-at-once');
    mkdirSync(many);
    const paths = Array.from({ length: 200 }, (_, i) => writeFile(many, `${i}.txt`, 'x'.repeat(i)));
    const calls = paths.map((path, i) => MultipartParam.fromFile(`f${i}`, i % 50 === 7 ? `${path}.missing` : path));
    const settled = await Promise.allSettled(calls);
    settled.forEach((outcome, i) => {
      if (i % 50 === 7) expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'ERR_FILE_UNREADABLE' } });
      else expect(outcome).toMatchObject({ status: 'fulfilled', value: { name: `f${i}`, size: i } });
    });
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('lets the event loop turn while 2,000 files are measured, each call settled once', async () => {
    const many = join(dir, 'two-thousand');
    mkdirSync(many);
    const paths = Array.from({ length: 2000 }, (_, i) => writeFile(many, `${i}`, 'x'.repeat(i % 7)));
    let settled = 0;
    let turnsWhileMeasuring = 0;
    const watch = (): void => {
      if (settled === paths.length) return;
      turnsWhileMeasuring++;
      setImmediate(watch);
    };
    const calls = paths.map((path, i) => MultipartParam.fromFile(`f${i}`, path).finally(() => settled++));
    setImmediate(watch);
    const params = await Promise.all(calls);
    expect(params.map((param) => param.size)).toEqual(paths.map((_, i) => i % 7));
    expect(settled).toBe(paths.length);
    expect(turnsWhileMeasuring).toBeGreaterThan(1);
  });

  it('rejects a path with a NUL byte among many with ERR_FILE_UNREADABLE, the others measured', async () => {
    const path = writeFile(dir, 'beside-nul.txt', 'abc');
    const calls = Array.from({ length: 40 }, (_, i) => MultipartParam.fromFile(`f${i}`, i % 2 ? path : `${path}\0x`));
    const settled = await Promise.allSettled(calls);
    settled.forEach((outcome, i) => {
      if (i % 2) expect(outcome).toMatchObject({ status: 'fulfilled', value: { size: 3 } });
      else expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'ERR_FILE_UNREADABLE' } });
    });
  });

  it('never throws: every bad argument is a rejected promise', () => {
    for (const call of [
      () => MultipartParam.fromFile('f', 42 as never),
      () => MultipartParam.fromFile('f', dir, { bogus: 1 } as never),
      () => MultipartParam.fromFile(7 as never, join(dir, 'ten.txt')),
    ]) {
      let promise: Promise<unknown> | undefined;
      expect(() => (promise = call())).not.toThrow();
      expect(promise).toBeInstanceOf(Promise);
      promise!.catch(() => {});
    }
  });
});

describe('a path swapped after it was measured', () => {
  const swaps: Array<[string, (path: string) => void, string]> = [
    ['for a FIFO nobody writes to', (path) => execFileSync('mkfifo', [path]), 'ERR_FILE_UNREADABLE f'],
    ['for a link to /dev/zero', (path) => symlinkSync('/dev/zero', path), 'ERR_FILE_UNREADABLE f'],
    [
      'for another file of the same size',
      (path) => writeFileSync(path, Buffer.alloc(sizeOf(path), 1)),
      'ERR_SIZE_MISMATCH f',
    ],
  ];
  const sizes = { small: 100, large: 200_000 };
  const sizeOf = (path: string) => sizes[path.endsWith('small') ? 'small' : 'large'];
  for (const [label, swap, expected] of swaps) {
    for (const [kind, size] of Object.entries(sizes)) {
      it(`${label} (${kind} file): refused, not read, nothing blocks`, async () => {
        const path = writeFile(dir, `${label.replace(/\W/g, '-')}-${kind}`, Buffer.alloc(size));
        const form = await multipartEncode([await MultipartParam.fromFile('f', path)]);
        rmSync(path);
        swap(path);
        expect(await drainOrCode(form.body)).toBe(expected);
        expect(openFilesUnder(dir)).toEqual([]);
      });
    }
  }
});
