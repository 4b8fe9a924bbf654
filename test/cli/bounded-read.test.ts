import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CONTENTS_LIMIT, readLimited, readStream, TooLarge } from '../../src/cli/bounded-read.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';

const MiB = 1024 * 1024;
const SIZES = [0, 1, 16383, 16384, 16385, 65535, 65536, 65537, MiB - 1, MiB, MiB + 1];

/** A stream that gives `pieces` one by one, as a pipe or standard input would. */
function fed(pieces: readonly Buffer[]): Readable {
  return Readable.from(pieces, { objectMode: false });
}

describe('readStream: a stream read whole, never past its limit, fed directly', () => {
  it.each(SIZES)('%i bytes in one chunk, with a limit of exactly that, one less and one more', async (size) => {
    const data = bytes(size, size + 3);
    let released = 0;
    const release = () => void released++;
    expect((await readStream(fed([data]), 'input', { limit: size, release })).equals(data)).toBe(true);
    expect((await readStream(fed([data]), 'input', { limit: size + 1, release })).equals(data)).toBe(true);
    if (size > 0)
      await expect(readStream(fed([data]), 'input', { limit: size - 1, release })).rejects.toBeInstanceOf(TooLarge);
    expect(released).toBe(size > 0 ? 3 : 2);
  });

  it.each(SIZES.filter((size) => size > 1))('%i bytes in chunks of 16384, the limit at every edge', async (size) => {
    const data = bytes(size, 5);
    const pieces: Buffer[] = [];
    for (let at = 0; at < size; at += 16384) pieces.push(data.subarray(at, at + 16384));
    const release = () => {};
    expect((await readStream(fed(pieces), 'input', { limit: size, release })).equals(data)).toBe(true);
    await expect(readStream(fed(pieces), 'input', { limit: size - 1, release })).rejects.toMatchObject({
      name: 'TooLarge',
      limit: size - 1,
    });
  });

  it('a small body split at every position, and byte by byte, reads the same', async () => {
    const data = Buffer.from('a\r\n"b";c');
    const release = () => {};
    for (let cut = 0; cut <= data.length; cut++) {
      const pieces = [data.subarray(0, cut), data.subarray(cut)].filter((piece) => piece.length > 0);
      expect((await readStream(fed(pieces), 'input', { limit: data.length, release })).equals(data)).toBe(true);
    }
    const single = [...data].map((byte) => Buffer.of(byte));
    expect((await readStream(fed(single), 'input', { limit: data.length, release })).equals(data)).toBe(true);
    await expect(readStream(fed(single), 'input', { limit: data.length - 1, release })).rejects.toBeInstanceOf(
      TooLarge,
    );
  });

  it("a stream's error, and an abort, end the read with that error and release the stream", async () => {
    const failing = new Readable({ read() {} });
    let released = false;
    const read = readStream(failing, 'input', { release: () => (released = true) });
    failing.push('some');
    failing.destroy(new Error('broken pipe'));
    await expect(read).rejects.toThrow('broken pipe');
    expect(released).toBe(true);

    const idle = new Readable({ read() {} });
    const controller = new AbortController();
    const waiting = readStream(idle, 'input', { signal: controller.signal, release: () => idle.destroy() });
    const reason = new Error('gave up');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(idle.destroyed).toBe(true);
  });
});

describe('readLimited: a file, device or FIFO read whole, but never past a limit', () => {
  const dir = tempDir();
  const fifo = (name: string) => {
    const path = join(dir, name);
    execFileSync('mkfifo', [path]);
    return path;
  };

  it('the limit is 16 MiB', () => {
    expect(CONTENTS_LIMIT).toBe(16 * MiB);
  });

  it.each(SIZES)('a file of %i bytes, with a limit of exactly that and one less', async (size) => {
    const data = bytes(size, 11);
    const path = writeFile(dir, `file-${size}.bin`, data);
    expect((await readLimited(path, { limit: size })).equals(data)).toBe(true);
    if (size > 0) await expect(readLimited(path, { limit: size - 1 })).rejects.toBeInstanceOf(TooLarge);
  });

  it('reads a file of exactly the limit; one byte more fails without reading it', async () => {
    const exact = writeFile(dir, 'exact.txt', 'x'.repeat(1000));
    expect((await readLimited(exact, { limit: 1000 })).toString()).toBe('x'.repeat(1000));
    const over = writeFile(dir, 'over.txt', 'x'.repeat(1001));
    await expect(readLimited(over, { limit: 1000 })).rejects.toThrow(
      /"[^"]*over\.txt" holds more than 1000 bytes, the most a text field read with < may hold; send it as a file with @ instead/,
    );
    expect((await readLimited(writeFile(dir, 'empty.txt', ''))).length).toBe(0);
  });

  it('an endless device (/dev/zero) stops at the limit', async () => {
    await expect(readLimited('/dev/zero', { limit: 100_000 })).rejects.toThrow(
      /"\/dev\/zero" holds more than 100000 bytes/,
    );
    await expect(readLimited('/dev/zero')).rejects.toThrow(/"\/dev\/zero" holds more than 16 MiB/);
    expect((await readLimited('/dev/null')).length).toBe(0);
  });

  it('a FIFO with an endless writer stops at the limit', async () => {
    const path = fifo('endless');
    const writer = createWriteStream(path);
    writer.on('error', () => {}); // EPIPE once the reader gives up
    let written = 0;
    const block = Buffer.alloc(64 * 1024, 0x61);
    const pump = () => {
      // bounded: at most 64 MiB, far past the limit
      while (written < 64 * MiB && !writer.destroyed) {
        written += block.length;
        if (!writer.write(block)) return void writer.once('drain', pump);
      }
      writer.end();
    };
    writer.once('open', pump);
    await expect(readLimited(path, { limit: MiB })).rejects.toThrow(/holds more than 1 MiB/);
    writer.destroy();
  });

  it('a FIFO is read to its end; one nobody writes to waits until the signal ends it', async () => {
    const path = fifo('short');
    const writer = createWriteStream(path);
    writer.end('from a fifo');
    expect((await readLimited(path)).toString()).toBe('from a fifo');

    const idle = fifo('idle');
    const reason = new Error('gave up');
    await expect(readLimited(idle, { signal: AbortSignal.timeout(300) })).rejects.toThrow(/aborted|timeout/i);
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 100);
    await expect(readLimited(idle, { signal: controller.signal })).rejects.toBe(reason);
  });

  it('a directory or a missing file fails with the fs error', async () => {
    await expect(readLimited(dir)).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(readLimited(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
