import { describe, expect, it } from 'vitest';
import { parseFormArg } from '../../src/cli/form-grammar.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { parseWithBusboy } from '../helpers/parse.js';

const dir = tempDir();

describe("curl's -F forms for nested files and part headers", () => {
  it.each([
    ['f=@a.txt,b.txt', { name: 'f', kind: 'files', value: 'a.txt', paths: ['a.txt', 'b.txt'] }],
    ['f=@a.txt,"b,c.txt",d', { name: 'f', kind: 'files', value: 'a.txt', paths: ['a.txt', 'b,c.txt', 'd'] }],
    [
      'f=@a.txt,b.txt;headers=X-A: 1',
      { name: 'f', kind: 'files', value: 'a.txt', paths: ['a.txt', 'b.txt'], headers: ['X-A: 1'] },
    ],
    [
      'f=@a.txt;headers=Content-ID: <x>;headers=@h.txt',
      { name: 'f', kind: 'file', value: 'a.txt', headers: ['Content-ID: <x>', '@h.txt'] },
    ],
    ['t=v;headers="X-Semi: a;b"', { name: 't', kind: 'text', value: 'v', headers: ['X-Semi: a;b'] }],
  ])('%s', (spec, expected) => {
    expect(parseFormArg(spec)).toEqual(expected);
  });

  it.each(['f=@a,', 'f=@,b', 'f=@"a,b'])('rejects %j as a usage error', (spec) => {
    expect(() => parseFormArg(spec)).toThrow(expect.objectContaining({ kind: 'usage' }));
  });
});

describe('standard input, as in curl: -F name=@- and name=<-', () => {
  async function withStdin(
    args: string[],
    input: Buffer,
  ): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
    const { spawn } = await import('node:child_process');
    const { cliPath } = await import('../helpers/cli.js');
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c) => (err += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout: Buffer.concat(out), stderr: err });
      });
      child.stdin.on('error', () => {}); // a child that exits before reading (a usage error) closes its stdin: EPIPE
      child.stdin.end(input);
    });
  }

  it('@- is a file part of stdin (filename "-"), spooled so the body has its exact Content-Length', async () => {
    const input = bytes(3_000_000, 8);
    const result = await withStdin(['--dry-run', '-F', 'a=b', '-F', 'data=@-;type=application/x-thing'], input);
    expect(result.code).toBe(0);
    const contentType = /^Content-Type: (.*)$/m.exec(result.stderr)![1]!;
    expect(result.stderr).toContain(`Content-Length: ${result.stdout.length}\n`);
    const [, data] = await parseWithBusboy({ 'content-type': contentType }, result.stdout);
    expect([data!.name, data!.filename, data!.type]).toEqual(['data', '-', 'application/x-thing']);
    expect(data!.data.equals(input)).toBe(true);
  });

  it('-T - and --data-binary @- send stdin itself with its exact Content-Length (-T as a PUT), -T FILE a file', async () => {
    const { json, startServer } = await import('../helpers/servers.js');
    const server = await startServer((req, res) => {
      let size = 0;
      req.on('data', (c: Buffer) => (size += c.length));
      req.on('end', () =>
        json(res, 200, {
          method: req.method,
          length: req.headers['content-length'],
          chunked: req.headers['transfer-encoding'] ?? null,
          size,
        }),
      );
    });
    const input = bytes(2_500_000, 6);
    for (const [args, method] of [
      [['-T', '-'], 'PUT'],
      [['--data-binary', '@-'], 'POST'],
      [['-T', '-', '-X', 'POST'], 'POST'],
    ] as const) {
      const result = await withStdin([...args, server.url], input);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout.toString())).toEqual({
        method,
        length: String(input.length),
        chunked: null,
        size: input.length,
      });
    }
    const file = writeFile(dir, 'put.bin', bytes(1000, 1));
    const put = await withStdin(['-T', file, server.url], Buffer.alloc(0));
    expect(JSON.parse(put.stdout.toString())).toEqual({ method: 'PUT', length: '1000', chunked: null, size: 1000 });
    expect((await withStdin(['-T', file, '--data-binary', `@${file}`, server.url], Buffer.alloc(0))).code).toBe(2);
  });

  it('<- is a text field of stdin; asking for stdin twice is a usage error', async () => {
    const result = await withStdin(['--dry-run', '--boundary', 'B', '-F', 't=<-'], Buffer.from('from stdin'));
    expect(result.stdout.toString()).toBe(
      '--B\r\nContent-Disposition: form-data; name="t"\r\n\r\nfrom stdin\r\n--B--\r\n',
    );
    const twice = await withStdin(['--dry-run', '-F', 't=<-', '-F', 'f=@-'], Buffer.from('x'));
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('standard input can be read once');
  });
});
