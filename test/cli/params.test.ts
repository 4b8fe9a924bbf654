import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toParams } from '../../src/cli/params.js';
import { runCli } from '../helpers/cli.js';
import { openFilesUnder, tempDir, writeFile } from '../helpers/files.js';

const dir = tempDir();
const fifo = (name: string) => {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
};

describe('the params -F describes', () => {
  it('failures to read are read errors (exit 26) naming the field', async () => {
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

  it('the first failure stops every other read: a FIFO nobody writes to is let go at once', async () => {
    const idle = fifo('idle-1');
    await expect(
      toParams([
        { name: 'a', kind: 'contents', value: idle },
        { name: 'b', kind: 'file', value: join(dir, 'missing.bin') },
      ]),
    ).rejects.toMatchObject({ name: 'MultipartError', code: 'ERR_FILE_UNREADABLE' });
    expect(openFilesUnder(dir)).toEqual([]);
  });

  it('-F a=<fifo -F b=@missing: the CLI reports the missing file and exits 26, not waiting for the FIFO', async () => {
    const idle = fifo('idle-2');
    const result = await runCli(['-F', `a=<${idle}`, '-F', `b=@${join(dir, 'missing.bin')}`, 'http://127.0.0.1:9/'], {
      timeout: 15_000,
    });
    expect(result.stderr).toMatch(/^multipart-poster: field "b": cannot read file ".*missing\.bin": ENOENT/);
    expect(result.code).toBe(26);
  });

  it(';headers=@FILE and ;headers=<FILE read part headers from a file, bounded at 64 KiB', async () => {
    const one = writeFile(dir, 'one.txt', '# a comment\nX-One: 1\n\nX-Two: 2\n');
    const two = writeFile(dir, 'two.txt', 'X-Three: 3\r\n');
    const [param] = await toParams([{ name: 'a', kind: 'text', value: 'v', headers: [`@${one}`, `<${two}`] }]);
    expect(param!.encodeHdr('B')).toContain('X-One: 1\r\nX-Two: 2\r\nX-Three: 3\r\n');
    const big = writeFile(dir, 'big-headers.txt', `X-Big: ${'x'.repeat(64 * 1024)}\n`);
    await expect(toParams([{ name: 'a', kind: 'text', value: 'v', headers: [`@${big}`] }])).rejects.toMatchObject({
      kind: 'read',
      message: `the headers of field "a": ${JSON.stringify(big)} holds more than 64 KiB, far more than header lines take`,
    });
  });
});
