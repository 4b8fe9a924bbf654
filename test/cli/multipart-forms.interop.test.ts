import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { header, parseWithGo, parseWithPythonEmail } from '../helpers/mime-tree.js';

// What the CLI sends, decoded by independent parsers: Python's email and Go's mime/multipart (needs python3 and go).
const dir = tempDir();

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
