// `--decode`: the built CLI uploads a form to a server on 127.0.0.1 whose answer is multipart (or
// pretends to be), and splits the answer into files. Every hostile answer ends in one line on
// stderr, its exit code, and no file half written.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, root, runCli } from '../helpers/cli.js';
import { bytes, tempDir } from '../helpers/files.js';
import { rawMultipart } from '../helpers/forms.js';

const MiB = 1024 * 1024;
const B = 'answer-boundary';
const { part, closed } = rawMultipart(B);
const MULTIPART = `multipart/mixed; boundary=${B}`;
const big = bytes(70_000, 3);

/** The answer to each path: its status, Content-Type and body, and what the server does after it. */
function answerFor(path: string, uploaded: Buffer): { status: number; type?: string; body: Buffer; then?: string } {
  const echo = part(['Content-Type: application/octet-stream', 'Content-ID: <echo>'], uploaded);
  const file = part(['Content-Disposition: attachment; filename="../report.bin"', 'X-Raw: caf\xe9'], big);
  const size = /^\/size\/(\d+)$/.exec(path);
  if (size) return { status: 200, type: MULTIPART, body: closed(part([], bytes(Number(size[1]), 5))) };
  switch (path) {
    case '/ok':
      return { status: 200, type: MULTIPART, body: closed(echo, file) };
    case '/error-multipart':
      return { status: 500, type: MULTIPART, body: closed(part([], 'trace')) };
    case '/no-boundary':
      return { status: 200, type: 'multipart/mixed', body: closed(echo) };
    case '/text':
      return { status: 200, type: 'text/plain', body: Buffer.from('plain words') };
    case '/none':
      return { status: 200, body: Buffer.from('') };
    case '/truncated': // well framed for HTTP, but no close delimiter: the second part has no end
      return { status: 200, type: MULTIPART, body: Buffer.concat([echo, part([], 'second, never ended')]) };
    case '/cut': // the connection closes inside the second part, before the Content-Length
      return { status: 200, type: MULTIPART, body: closed(echo, file), then: 'cut' };
    case '/stall': // the answer stops inside the second part and the connection stays open
      return { status: 200, type: MULTIPART, body: closed(echo, file), then: 'stall' };
  }
  return { status: 404, body: Buffer.from('no') };
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const uploaded = Buffer.concat(chunks);
    const { status, type, body, then } = answerFor(req.url!, uploaded);
    res.writeHead(status, { ...(type === undefined ? {} : { 'content-type': type }), 'content-length': body.length });
    if (then === undefined) return void res.end(body);
    // Half of the big part goes out, then the connection is cut or left open.
    res.write(body.subarray(0, echoLength(uploaded) + 35_000), () => {
      if (then === 'cut') res.destroy();
    });
  });
});
const echoLength = (uploaded: Buffer) =>
  part(['Content-Type: application/octet-stream', 'Content-ID: <echo>'], uploaded).length;

let origin = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));

/** Uploads one field to PATH with --decode and the extra arguments. */
const upload = (path: string, ...args: string[]) =>
  runCli(['-F', 'field=value', '--decode', ...args, `${origin}${path}`]);

describe('--decode splits a multipart answer', () => {
  it('into -o DIR: each part and its header lines beside it, the listing on stdout', async () => {
    const out = join(tempDir(), 'out');
    const result = await upload('/ok', '-o', out);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(readdirSync(out).sort()).toEqual([
      '001-part',
      '001-part.headers',
      '002-__report.bin',
      '002-__report.bin.headers',
    ]);
    // The first part is what the server received: the upload went out whole before the answer was split.
    expect(readFileSync(join(out, '001-part'), 'latin1')).toMatch(/name="field"\r\n\r\nvalue\r\n/);
    expect(readFileSync(join(out, '001-part.headers'), 'latin1')).toBe(
      'Content-Type: application/octet-stream\nContent-ID: <echo>\n',
    );
    expect(readFileSync(join(out, '002-__report.bin')).equals(big)).toBe(true);
    expect(readFileSync(join(out, '002-__report.bin.headers'), 'latin1')).toContain('X-Raw: caf\xe9\n');
    expect(result.stdout.split('\n')[1]).toBe(`002\t70000\t-\t../report.bin\t-\t${join(out, '002-__report.bin')}`);
  });

  it('without -o: the parts listed, nothing written', async () => {
    const result = await upload('/ok');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^001\t\d+\t-\t-\tapplication\/octet-stream\n002\t70000\t-\t\.\.\/report\.bin\t-\n$/);
  });

  it.each([0, 1, 16383, 16384, 16385, 65535, 65536, 65537, MiB - 1, MiB, MiB + 1])(
    'a part of %i bytes over the socket',
    async (size) => {
      const out = tempDir();
      const result = await upload(`/size/${size}`, '-o', out);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(readFileSync(join(out, '001-part')).equals(bytes(size, 5))).toBe(true);
    },
  );

  it('--fail-with-body: a 500 answer is split, then exit 22; --fail: nothing written, exit 22', async () => {
    const out = join(tempDir(), 'out');
    const kept = await upload('/error-multipart', '--fail-with-body', '-o', out);
    expect(kept.code).toBe(22);
    expect(kept.stderr).toMatch(/answered 500/);
    expect(readFileSync(join(out, '001-part'), 'latin1')).toBe('trace');
    const dropped = await upload('/error-multipart', '--fail', '-o', join(out, 'not-made'));
    expect(dropped.code).toBe(22);
    expect(existsSync(join(out, 'not-made'))).toBe(false);
  });
});

describe('--decode against hostile answers', () => {
  it.each([
    ['a multipart type without a boundary', 1, '/no-boundary', /cannot be split: .*boundary/],
    ['a text/plain answer', 1, '/text', /is not multipart: Content-Type text\/plain/],
    ['an answer without a Content-Type', 1, '/none', /is not multipart: no Content-Type/],
    ['a 404 without --fail, not multipart', 1, '/missing', /\(404 Not Found\) is not multipart/],
  ])('%s: exit %i, no folder made', async (_what, code, path, message) => {
    const out = join(tempDir(), 'out');
    const result = await upload(path, '-o', out);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    ['a body without its close delimiter', 1, '/truncated', [], /cannot be split: .*ERR_TRUNCATED|ended/],
    ['a connection cut inside a part', 18, '/cut', [], /the answer was cut short: \d+ of \d+ bytes/],
    ['an answer that stalls inside a part, with --timeout', 28, '/stall', ['--timeout', '2'], /\d+ of \d+ bytes/],
  ])('%s: exit %i, the parts before it kept, nothing half written', async (_what, code, path, args, message) => {
    const out = tempDir();
    const result = await upload(path, ...args, '-o', out);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    // The first part ended before the failure; the second is neither there nor left as a .partial.
    expect(readdirSync(out).sort()).toEqual(['001-part', '001-part.headers']);
    expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('Ctrl-C while a part is written: exit 130, the part being written removed', async () => {
    const out = tempDir();
    const child = spawn(process.execPath, [cliPath, '-F', 'a=b', '--decode', '-o', out, `${origin}/stall`], {
      cwd: root,
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // The first part is listed once it is written: the second is then being written.
      if (stdout.includes('\n')) child.kill('SIGINT');
    });
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(timer);
    expect(code).toBe(130);
    expect(readdirSync(out).sort()).toEqual(['001-part', '001-part.headers']);
  });

  it('never overwrites a file: exit 23, the file as it was, no .partial left', async () => {
    const out = tempDir();
    writeFileSync(join(out, '002-__report.bin'), 'mine');
    const result = await upload('/ok', '-o', out);
    expect(result.code).toBe(23);
    expect(result.stderr).toMatch(/cannot write .*002-__report\.bin: EEXIST/);
    expect(readFileSync(join(out, '002-__report.bin'), 'utf8')).toBe('mine');
    expect(readdirSync(out).sort()).toEqual(['001-part', '001-part.headers', '002-__report.bin']);
  });

  it.each([
    [['--dry-run'], /needs a URL, not --dry-run/],
    [['-i'], /--decode and -i cannot be used together/],
    [['-o', '-'], /--decode -o takes a folder, not -/],
  ])('%j with --decode: exit 2', async (args, message) => {
    const result = await upload('/ok', ...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
