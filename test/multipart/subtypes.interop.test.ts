import { describe, expect, it } from 'vitest';
import { multipartEncode, MultipartParam, upload } from '../../src/index.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { batchRequest, curlStyle } from '../helpers/forms.js';
import { header, parseWithGo, parseWithPythonEmail } from '../helpers/mime-tree.js';
import { collect } from '../helpers/parse.js';
import { json, startServer } from '../helpers/servers.js';

// Bodies decoded by independent parsers: Python's email and Go's mime/multipart (needs python3 and go).
const dir = tempDir();

/** A fake Drive `uploadType=multipart` endpoint: checks the body the way Drive documents it. */
const drive = await startServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    const type = req.headers['content-type'] ?? '';
    const [tree] = await parseWithPythonEmail([{ contentType: type, body }]);
    const [metadata, media] = tree!.parts ?? [];
    const problems = [
      /^multipart\/related; boundary=/.test(type) ? '' : `Content-Type ${type}`,
      req.headers['content-length'] === String(body.length)
        ? ''
        : `Content-Length ${req.headers['content-length']} for ${body.length} bytes`,
      tree!.parts?.length === 2 ? '' : `${tree!.parts?.length} parts`,
      metadata && header(metadata, 'content-type') === 'application/json; charset=UTF-8' ? '' : 'metadata type',
    ].filter(Boolean);
    if (problems.length > 0 || !metadata || !media) return json(res, 400, { error: { message: problems.join('; ') } });
    const { name } = JSON.parse(metadata.body!.toString('utf8')) as { name: string };
    json(res, 200, { kind: 'drive#file', name, mimeType: header(media, 'content-type'), size: media.body!.length });
  });
});

describe('multipart/related: a Google Drive / Cloud Storage uploadType=multipart upload', () => {
  it('sends the metadata JSON first, then the media, with an exact Content-Length', async () => {
    const path = writeFile(dir, 'photo.png', bytes(200_000, 3));
    const form = await multipartEncode(
      [
        new MultipartParam(null, {
          value: JSON.stringify({ name: 'photo.png' }),
          filetype: 'application/json; charset=UTF-8',
        }),
        await MultipartParam.fromFile(null, path),
      ],
      { subtype: 'related' },
    );
    expect(form.headers['Content-Type']).toMatch(/^multipart\/related; boundary=----multipartposter[0-9a-f]{32}$/);
    const response = await upload(`${drive.origin}/upload/drive/v3/files?uploadType=multipart`, form);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      kind: 'drive#file',
      name: 'photo.png',
      mimeType: 'image/png',
      size: 200_000,
    });
  });

  it('decodes in Python email and Go with every header and byte, the type and start parameters quoted', async () => {
    const media = bytes(70_000, 9);
    const form = await multipartEncode(
      [
        new MultipartParam(null, {
          value: '{"title":"x"}',
          filetype: 'application/json',
          headers: { 'Content-ID': '<root@example>' },
        }),
        new MultipartParam(null, {
          value: media,
          filetype: 'image/jpeg',
          headers: [
            ['Content-ID', '<media@example>'],
            ['Content-Transfer-Encoding', 'binary'],
          ],
        }),
      ],
      { subtype: 'related', parameters: { type: 'application/json', start: '<root@example>' } },
    );
    expect(form.headers['Content-Type']).toBe(
      `multipart/related; boundary=${form.boundary}; type="application/json"; start="<root@example>"`,
    );
    const request = { contentType: form.headers['Content-Type']!, body: await collect(form.body) };
    for (const [parser, [tree]] of [
      ['python', await parseWithPythonEmail([request])],
      ['go', await parseWithGo([request])],
    ] as const) {
      expect(tree!.parts, parser).toHaveLength(2);
      const [root, image] = tree!.parts!;
      expect([header(root!, 'content-type'), header(root!, 'content-id'), root!.body!.toString()], parser).toEqual([
        'application/json',
        '<root@example>',
        '{"title":"x"}',
      ]);
      expect(
        [header(image!, 'content-type'), header(image!, 'content-id'), header(image!, 'content-transfer-encoding')],
        parser,
      ).toEqual(['image/jpeg', '<media@example>', 'binary']);
      expect(image!.body!.equals(media), parser).toBe(true);
    }
  });
});

describe('multipart/mixed: a Google-style batch request', () => {
  it('decodes in Python email: one application/http part per request, in order, with its Content-ID', async () => {
    const form = await batchRequest([
      { method: 'GET', path: '/drive/v3/files/abc' },
      { method: 'PATCH', path: '/drive/v3/files/def', body: { name: 'renamed' } },
    ]);
    const [tree] = await parseWithPythonEmail([
      { contentType: form.headers['Content-Type']!, body: await collect(form.body) },
    ]);
    expect(tree!.defects).toEqual([]);
    expect(
      tree!.parts!.map((p) => [
        header(p, 'content-type'),
        header(p, 'content-id'),
        p.body!.toString().split('\r\n')[0],
      ]),
    ).toEqual([
      ['application/http', '<item1>', 'GET /drive/v3/files/abc HTTP/1.1'],
      ['application/http', '<item2>', 'PATCH /drive/v3/files/def HTTP/1.1'],
    ]);
    expect(tree!.parts![1]!.body!.toString()).toMatch(/\r\n\r\n\{"name":"renamed"\}$/);
  });
});

describe('nested bodies: multipart/mixed inside form-data, as curl sends -F "files=@a.txt,b.txt"', () => {
  it('Python email and Go find the inner parts with their filenames, types and bytes', async () => {
    const form = await curlStyle(dir);
    const request = { contentType: form.headers['Content-Type']!, body: await collect(form.body) };
    for (const [parser, [tree]] of [
      ['python', await parseWithPythonEmail([request])],
      ['go', await parseWithGo([request])],
    ] as const) {
      const files = tree!.parts![1]!;
      expect(header(files, 'content-disposition'), parser).toBe('form-data; name="files"');
      expect(
        files.parts!.map((p) => [header(p, 'content-disposition'), header(p, 'content-type'), p.body!.length]),
        parser,
      ).toEqual([
        ['attachment; filename="a.txt"', 'text/plain', 11],
        ['attachment; filename="b.bin"', 'application/octet-stream', 100_000],
      ]);
      expect(files.parts![1]!.body!.equals(bytes(100_000, 5)), parser).toBe(true);
    }
  });
});
