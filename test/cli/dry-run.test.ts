import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { json, startServer } from '../helpers/servers.js';

const dir = tempDir();

describe('-o FILE where FILE is also an input', () => {
  it.each([
    ['the same path', (path: string) => path],
    ['a hard link to it', (path: string) => (linkSync(path, `${path}.link`), `${path}.link`)],
    ['a symbolic link to it', (path: string) => (symlinkSync(path, `${path}.sym`), `${path}.sym`)],
  ])('--dry-run: refused before it is emptied (%s)', async (_what, other) => {
    const data = bytes(3 * 1024 * 1024, 4);
    const input = writeFile(tempDir(), 'input.bin', data);
    for (const args of [
      ['-F', `f=@${other(input)}`],
      ['--data-binary', `@${input}`],
      ['-F', `f=@x,${input}`],
    ]) {
      const result = await runCli(['--dry-run', '-o', input, ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /^multipart-poster: -o ".*input\.bin" is also an input \(".*"\): writing the body there would empty it before it is read\n/,
      );
      expect(readFileSync(input).equals(data)).toBe(true);
    }
  });

  it('--dry-run -o FILE -F f=<FILE: the value is read before FILE is written, so it is allowed', async () => {
    const input = writeFile(dir, 'value.txt', 'the value');
    const result = await runCli(['--dry-run', '--boundary', 'B', '-o', input, '-F', `f=<${input}`]);
    expect(result.code).toBe(0);
    expect(readFileSync(input, 'utf8')).toBe(
      '--B\r\nContent-Disposition: form-data; name="f"\r\n\r\nthe value\r\n--B--\r\n',
    );
  });

  it('sending: the body is sent whole, then FILE holds the answer, as curl does', async () => {
    const data = bytes(3 * 1024 * 1024, 5);
    const input = writeFile(dir, 'both.bin', data);
    let received = Buffer.alloc(0);
    const server = await startServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => ((received = Buffer.concat(chunks)), json(res, 200, { size: received.length })));
    });
    const result = await runCli(['-X', 'PUT', '-o', input, '--data-binary', `@${input}`, server.url]);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(received.equals(data)).toBe(true);
    expect(JSON.parse(readFileSync(input, 'utf8'))).toEqual({ size: data.length });
  });
});

describe('--dry-run -o FILE writes FILE whole or not at all', () => {
  // The boundary turns up 2 MB into the file: the encoder stops there, with much of the body out.
  const late = Buffer.concat([bytes(2_000_000, 7), Buffer.from('\r\n--BB\r\n')]);

  it('an encoding that fails midway leaves no FILE, and no temporary file beside it', async () => {
    const folder = tempDir();
    const input = writeFile(tempDir(), 'late.bin', late);
    const result = await runCli(['--dry-run', '--boundary', 'BB', '-o', `${folder}/out.bin`, '-F', `f=@${input}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/BB/);
    expect(readdirSync(folder)).toEqual([]);
  });

  it('an encoding that fails midway leaves an existing FILE as it was', async () => {
    const folder = tempDir();
    const output = writeFile(folder, 'out.bin', 'the old body');
    const input = writeFile(tempDir(), 'late.bin', late);
    const result = await runCli(['--dry-run', '--boundary', 'BB', '-o', output, '-F', `f=@${input}`]);
    expect(result.code).toBe(2);
    expect(readFileSync(output, 'utf8')).toBe('the old body');
    expect(readdirSync(folder)).toEqual(['out.bin']);
  });

  it('a body encoded whole replaces FILE, nothing else left', async () => {
    const folder = tempDir();
    const output = writeFile(folder, 'out.bin', 'the old body');
    const result = await runCli(['--dry-run', '--boundary', 'B', '-o', output, '-F', 'a=x']);
    expect(result.code).toBe(0);
    expect(readFileSync(output, 'utf8')).toBe('--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--B--\r\n');
    expect(readdirSync(folder)).toEqual(['out.bin']);
  });

  it('a FILE that is a link, a FIFO or /dev/null is written into, never replaced; a private FILE stays private', async () => {
    const folder = tempDir();
    const body = '--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--B--\r\n';
    const target = writeFile(folder, 'real.txt', 'target');
    symlinkSync(target, `${folder}/link.out`);
    expect((await runCli(['--dry-run', '--boundary', 'B', '-o', `${folder}/link.out`, '-F', 'a=x'])).code).toBe(0);
    expect(lstatSync(`${folder}/link.out`).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe(body);

    execFileSync('mkfifo', [`${folder}/f.fifo`]);
    const reader = readFile(`${folder}/f.fifo`, 'utf8');
    expect((await runCli(['--dry-run', '--boundary', 'B', '-o', `${folder}/f.fifo`, '-F', 'a=x'])).code).toBe(0);
    expect(await reader).toBe(body);
    expect(lstatSync(`${folder}/f.fifo`).isFIFO()).toBe(true);

    expect((await runCli(['--dry-run', '-o', '/dev/null', '-F', 'a=x'])).code).toBe(0);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);

    const secret = writeFile(folder, 'secret.out', 'old');
    chmodSync(secret, 0o600);
    expect((await runCli(['--dry-run', '--boundary', 'B', '-o', secret, '-F', 'a=x'])).code).toBe(0);
    expect(statSync(secret).mode & 0o777).toBe(0o600);
    expect(readFileSync(secret, 'utf8')).toBe(body);
  });

  it('a FILE in a missing folder: exit 23, named', async () => {
    const output = `${tempDir()}/missing/out.bin`;
    const result = await runCli(['--dry-run', '-o', output, '-F', 'a=x']);
    expect(result.code).toBe(23);
    expect(
      result.stderr.endsWith(`multipart-poster: cannot write ${output}: ENOENT: no such file or directory\n`),
    ).toBe(true);
  });
});
