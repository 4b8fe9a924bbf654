import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFormArg } from '../../src/cli/form-args.js';
import { runCli } from '../helpers/cli.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { header, parseWithGo, parseWithPythonEmail } from '../helpers/mime-tree.js';

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

describe('the CLI writes what curl would send, decoded by Python email and Go', () => {
  it('-F name=@a,b is a nested multipart/mixed; ;headers= adds lines; --form-string takes its value literally', async () => {
    const a = writeFile(dir, 'a.txt', 'first\n');
    const b = writeFile(dir, 'b,c.bin', bytes(80_000, 2));
    const headers = writeFile(dir, 'headers.txt', '# part headers\nX-From-File: yes\n\nContent-ID: <meta>\n');
    const out = join(dir, 'body.bin');
    const result = await runCli([
      '--dry-run',
      '-o',
      out,
      '-F',
      'title=two files',
      '-F',
      `files=@${a},"${b}";headers=X-Batch: 1`,
      '-F',
      `meta={};type=application/json;headers=@${headers}`,
      '--form-string',
      'literal=@not-a-file;type=x',
    ]);
    expect(result.code).toBe(0);
    const contentType = /^Content-Type: (.*)$/m.exec(result.stderr)![1]!;
    const body = readFileSync(out);
    expect(result.stderr).toContain(`Content-Length: ${body.length}\n`);
    for (const [parser, [tree]] of [
      ['python', await parseWithPythonEmail([{ contentType, body }])],
      ['go', await parseWithGo([{ contentType, body }])],
    ] as const) {
      const [title, files, meta, literal] = tree!.parts!;
      expect(title!.body!.toString(), parser).toBe('two files');
      expect([header(files!, 'content-disposition'), header(files!, 'x-batch')], parser).toEqual([
        'form-data; name="files"',
        '1',
      ]);
      expect(header(files!, 'content-type'), parser).toMatch(/^multipart\/mixed; boundary=/);
      expect(
        files!.parts!.map((p) => [header(p, 'content-disposition'), header(p, 'content-type'), p.body!.length]),
        parser,
      ).toEqual([
        ['attachment; filename="a.txt"', 'text/plain', 6],
        ['attachment; filename="b,c.bin"', 'application/octet-stream', 80_000],
      ]);
      expect(
        [header(meta!, 'content-type'), header(meta!, 'x-from-file'), header(meta!, 'content-id')],
        parser,
      ).toEqual(['application/json', 'yes', '<meta>']);
      expect(
        [header(literal!, 'content-disposition'), header(literal!, 'content-type'), literal!.body!.toString()],
        parser,
      ).toEqual(['form-data; name="literal"', undefined, '@not-a-file;type=x']);
    }
  });

  it("-H 'Content-Type: multipart/related; type=...' sends a multipart/related body with those parameters", async () => {
    const media = writeFile(dir, 'photo.png', bytes(5000, 4));
    const out = join(dir, 'related.bin');
    const result = await runCli([
      '--dry-run',
      '-o',
      out,
      '-H',
      'Content-Type: multipart/related; type="application/json"',
      '-F',
      'metadata={"name":"photo.png"};type=application/json; charset=UTF-8',
      '-F',
      `media=@${media}`,
    ]);
    expect(result.code).toBe(0);
    const contentType = /^Content-Type: (.*)$/m.exec(result.stderr)![1]!;
    expect(contentType).toMatch(/^multipart\/related; boundary=\S+; type="application\/json"$/);
    const [tree] = await parseWithPythonEmail([{ contentType, body: readFileSync(out) }]);
    expect(tree!.defects).toEqual([]);
    expect(tree!.parts!.map((p) => [header(p, 'content-type'), p.body!.length])).toEqual([
      ['application/json; charset=UTF-8', 20],
      ['image/png', 5000],
    ]);
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
    const [tree] = await parseWithPythonEmail([{ contentType, body: result.stdout }]);
    const data = tree!.parts![1]!;
    expect([header(data, 'content-disposition'), header(data, 'content-type')]).toEqual([
      'form-data; name="data"; filename="-"',
      'application/x-thing',
    ]);
    expect(data.body!.equals(input)).toBe(true);
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
