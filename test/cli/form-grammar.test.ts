import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTENTS_LIMIT, readLimited } from '../../src/cli/bounded-read.js';
import { parseFormArg } from '../../src/cli/form-grammar.js';
import { toParams } from '../../src/cli/params.js';
import { tempDir, writeFile } from '../helpers/files.js';

describe("-F with curl's grammar", () => {
  it.each([
    ['name=value', { name: 'name', kind: 'text', value: 'value' }],
    ['name=', { name: 'name', kind: 'text', value: '' }],
    ['a=b=c', { name: 'a', kind: 'text', value: 'b=c' }],
    ['a=x;y', { name: 'a', kind: 'text', value: 'x;y' }],
    ['a="x;type=y"', { name: 'a', kind: 'text', value: 'x;type=y' }],
    ['a="say \\"hi\\""', { name: 'a', kind: 'text', value: 'say "hi"' }],
    ['a=text;type=text/x-foo', { name: 'a', kind: 'text', value: 'text', type: 'text/x-foo' }],
    ['f=@photo.jpg', { name: 'f', kind: 'file', value: 'photo.jpg' }],
    ['f=@photo.jpg;type=image/png', { name: 'f', kind: 'file', value: 'photo.jpg', type: 'image/png' }],
    [
      'f=@photo.jpg;filename=other.png;type=image/png',
      { name: 'f', kind: 'file', value: 'photo.jpg', filename: 'other.png', type: 'image/png' },
    ],
    ['f=@"a;b.jpg";filename="c;d.jpg"', { name: 'f', kind: 'file', value: 'a;b.jpg', filename: 'c;d.jpg' }],
    ['f=@dir/with;semicolon.txt', { name: 'f', kind: 'file', value: 'dir/with;semicolon.txt' }],
    ['t=<notes.txt', { name: 't', kind: 'contents', value: 'notes.txt' }],
    ['t=<notes.txt;TYPE=text/markdown', { name: 't', kind: 'contents', value: 'notes.txt', type: 'text/markdown' }],
  ])('%s', (spec, expected) => {
    expect(parseFormArg(spec)).toEqual(expected);
  });

  it.each(['noequals', '=value', 'f=@', 't=<', 'a="open', 'a="closed"junk'])('rejects %j as a usage error', (spec) => {
    expect(() => parseFormArg(spec)).toThrow(expect.objectContaining({ kind: 'usage' }));
  });
});

describe('-F name=<file: read whole, but never past a limit', () => {
  const dir = tempDir();
  const fifo = (name: string) => {
    const path = join(dir, name);
    execFileSync('mkfifo', [path]);
    return path;
  };

  it('the limit is 16 MiB', () => {
    expect(CONTENTS_LIMIT).toBe(16 * 1024 * 1024);
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
      while (written < 64 * 1024 * 1024 && !writer.destroyed) {
        written += block.length;
        if (!writer.write(block)) return void writer.once('drain', pump);
      }
      writer.end();
    };
    writer.once('open', pump);
    await expect(readLimited(path, { limit: 1024 * 1024 })).rejects.toThrow(/holds more than 1 MiB/);
    writer.destroy();
  });

  it('a FIFO is read to its end; one nobody writes to waits until the signal ends it', async () => {
    const path = fifo('short');
    const writer = createWriteStream(path);
    writer.end('from a fifo');
    expect((await readLimited(path)).toString()).toBe('from a fifo');

    const idle = fifo('idle');
    const started = Date.now();
    const reason = new Error('gave up');
    await expect(readLimited(idle, { signal: AbortSignal.timeout(300) })).rejects.toThrow(/aborted|timeout/i);
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 100);
    await expect(readLimited(idle, { signal: controller.signal })).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a directory or a missing file fails with the fs error', async () => {
    await expect(readLimited(dir)).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(readLimited(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('toParams turns the failures into read errors (exit 26) naming the field', async () => {
    await expect(toParams([{ name: 'big', kind: 'contents', value: '/dev/zero' }])).rejects.toMatchObject({
      kind: 'read',
      message:
        'field "big": "/dev/zero" holds more than 16 MiB, the most a text field read with < may hold; send it as a file with @ instead',
    });
    await expect(toParams([{ name: 'gone', kind: 'contents', value: join(dir, 'missing') }])).rejects.toMatchObject({
      kind: 'read',
      message: expect.stringMatching(/^cannot read ".*missing" for field "gone": ENOENT/),
    });
  });
});
