import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { escapeFilename, multipartEncode, MultipartError, MultipartParam, upload } from '../src/index.js';
import { bytes, tempDir, writeFile } from './helpers/files.js';
import { header, parseWithGo, parseWithPythonEmail } from './helpers/mime-tree.js';
import { collect, parseWithBusboy } from './helpers/parse.js';
import { json, startServer } from './helpers/servers.js';

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

/** The README's batch recipe: each inner request is one application/http part with a Content-ID. */
async function batchRequest(requests: Array<{ method: string; path: string; body?: object }>) {
  const parts = requests.map(({ method, path, body }, i) => {
    const json = body === undefined ? '' : JSON.stringify(body);
    const http =
      `${method} ${path} HTTP/1.1\r\n` +
      (body === undefined ? '' : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n`) +
      `\r\n${json}`;
    return new MultipartParam(null, {
      value: http,
      headers: { 'Content-Type': 'application/http', 'Content-ID': `<item${i + 1}>` },
    });
  });
  return multipartEncode(parts, { subtype: 'mixed' });
}

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
  async function curlStyle() {
    const a = writeFile(dir, 'a.txt', 'first file\n');
    const b = writeFile(dir, 'b.bin', bytes(100_000, 5));
    const inner = await multipartEncode(
      await Promise.all(
        [a, b].map((path) =>
          MultipartParam.fromFile(null, path, {
            headers: { 'Content-Disposition': `attachment; filename="${escapeFilename(path.split('/').pop()!)}"` },
          }),
        ),
      ),
      { subtype: 'mixed' },
    );
    return multipartEncode([['title', 'two files'], new MultipartParam('files', { value: inner }), ['after', 'x']]);
  }

  it('busboy still reads the outer form-data: the nested body is one part typed multipart/mixed', async () => {
    const form = await curlStyle();
    const body = await collect(form.body);
    expect(body.length).toBe(form.contentLength);
    const parts = await parseWithBusboy(form.headers, body);
    expect(parts.map((p) => [p.name, p.type])).toEqual([
      ['title', 'text/plain'],
      ['files', 'multipart/mixed'],
      ['after', 'text/plain'],
    ]);
  });

  it('Python email and Go find the inner parts with their filenames, types and bytes', async () => {
    const form = await curlStyle();
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

  it('streams lazily: no file is opened until its part is reached, and the length is known without reading', async () => {
    const form = await curlStyle();
    expect(form.contentLength).toBeGreaterThan(100_000);
    const again = await collect(form.body);
    expect(again.length).toBe(form.contentLength);
    expect((await collect(form.body)).equals(again)).toBe(true); // replayable, identical bytes
  });

  it('reports progress to the outer param and the inner ones', async () => {
    const calls: string[] = [];
    const innerParam = new MultipartParam(null, { value: 'abc', cb: (_p, current) => calls.push(`inner ${current}`) });
    const inner = await multipartEncode([innerParam], { subtype: 'mixed' });
    const outer = new MultipartParam('n', {
      value: inner,
      cb: (_p, current, total) => calls.push(`outer ${current}/${total}`),
    });
    const form = await multipartEncode([outer]);
    await collect(form.body);
    const size = outer.getSize(form.boundary);
    expect(calls.filter((c) => c.startsWith('outer')).at(-1)).toBe(`outer ${size}/${size}`);
    expect(calls.filter((c) => c.startsWith('inner')).at(-1)).toBe(`inner ${innerParam.getSize(inner.boundary)}`);
  });
});

describe('the rules of the part model, each a typed error', () => {
  const nameless = new MultipartParam(null, { value: 'x' });
  it.each<[string, () => unknown, string]>([
    ['a nameless part in form-data', () => multipartEncode([nameless]), 'ERR_INVALID_NAME'],
    ['an empty multipart/related body', () => multipartEncode([], { subtype: 'related' }), 'ERR_INVALID_PARAMS'],
    [
      'a subtype that is not a token',
      () => multipartEncode([nameless], { subtype: 'mixed; x=1' }),
      'ERR_INVALID_OPTION',
    ],
    [
      'a boundary parameter',
      () => multipartEncode([nameless], { subtype: 'mixed', parameters: { Boundary: 'x' } }),
      'ERR_INVALID_OPTION',
    ],
    [
      'a parameter given twice',
      () =>
        multipartEncode([nameless], {
          subtype: 'mixed',
          parameters: [
            ['type', 'a'],
            ['TYPE', 'b'],
          ],
        }),
      'ERR_INVALID_OPTION',
    ],
    [
      'a parameter value with CR/LF',
      () => multipartEncode([nameless], { subtype: 'mixed', parameters: { type: 'a\r\nb' } }),
      'ERR_INVALID_OPTION',
    ],
    [
      'a header name that is not a token',
      () => new MultipartParam(null, { headers: { 'Bad Name': 'x' } }),
      'ERR_INVALID_HEADER_NAME',
    ],
    [
      'a header name that reads as a delimiter',
      () => new MultipartParam(null, { headers: { '--B': 'x' } }),
      'ERR_INVALID_HEADER_NAME',
    ],
    [
      'a header value with LF',
      () => new MultipartParam(null, { headers: { 'X-A': 'a\nB: c' } }),
      'ERR_INVALID_HEADER_VALUE',
    ],
    [
      'a header value with NUL',
      () => new MultipartParam(null, { headers: { 'X-A': 'a\0' } }),
      'ERR_INVALID_HEADER_VALUE',
    ],
    [
      'the same header twice',
      () =>
        new MultipartParam(null, {
          headers: [
            ['Content-ID', '<a>'],
            ['content-id', '<b>'],
          ],
        }),
      'ERR_HEADER_CONFLICT',
    ],
    [
      'a Content-Type header and filetype',
      () => new MultipartParam(null, { filetype: 'a/b', headers: { 'content-type': 'c/d' } }),
      'ERR_HEADER_CONFLICT',
    ],
    [
      'a Content-Disposition header beside a name',
      () => new MultipartParam('n', { headers: { 'Content-Disposition': 'inline' } }),
      'ERR_HEADER_CONFLICT',
    ],
    [
      'a Content-Length header that lies',
      () => new MultipartParam(null, { value: 'abc', headers: { 'Content-Length': '2' } }),
      'ERR_HEADER_CONFLICT',
    ],
    [
      'a Content-Type on a nested body',
      async () =>
        new MultipartParam(null, { value: await multipartEncode([nameless], { subtype: 'mixed' }), filetype: 'a/b' }),
      'ERR_HEADER_CONFLICT',
    ],
    [
      'a nested boundary that starts with the outer one',
      async () =>
        multipartEncode(
          [
            new MultipartParam(null, {
              value: await multipartEncode([nameless], { subtype: 'mixed', boundary: 'outer-x' }),
            }),
          ],
          { subtype: 'mixed', boundary: 'outer' },
        ),
      'ERR_INVALID_BOUNDARY',
    ],
  ])('%s', async (_label, make, code) => {
    let error: unknown;
    try {
      await make();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MultipartError);
    expect((error as MultipartError).code).toBe(code);
  });

  it('a Content-Type header is the part type, written once in its place; a right Content-Length passes', async () => {
    const param = new MultipartParam(null, {
      value: 'abc',
      headers: { 'content-type': 'text/csv', 'Content-Length': '3' },
    });
    expect(param.filetype).toBe('text/csv');
    expect(param.headers).toEqual([['Content-Length', '3']]);
    const form = await multipartEncode([param], { subtype: 'mixed', boundary: 'b' });
    expect((await collect(form.body)).toString()).toBe(
      '--b\r\nContent-Type: text/csv\r\nContent-Length: 3\r\n\r\nabc\r\n--b--\r\n',
    );
  });

  it('a stream of unknown size nested makes the whole length unknown, and still streams', async () => {
    const inner = await multipartEncode([new MultipartParam(null, { fileobj: Readable.from([Buffer.from('xyz')]) })], {
      subtype: 'mixed',
    });
    const form = await multipartEncode({ f: inner });
    expect(form.contentLength).toBeUndefined();
    expect((await collect(form.body)).toString()).toContain('xyz');
  });
});
