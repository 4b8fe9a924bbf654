import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { multipartEncode, MultipartError, MultipartParam, type EncodedForm } from '../../src/index.js';
import { collect } from '../helpers/parse.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { header, parseWithGo, parseWithPythonEmail, type MimeTree } from '../helpers/mime-tree.js';
import { trickyString } from '../helpers/arbitraries.js';

const dir = tempDir();
let files = 0;

interface LeafSpec {
  kind: 'text' | 'bytes' | 'file' | 'stream' | 'blob';
  data: Uint8Array;
  contentType: string | undefined;
  headers: Array<[string, string]>;
}
interface TreeSpec {
  subtype: string;
  parts: Array<LeafSpec | { kind: 'nested'; tree: TreeSpec; headers: Array<[string, string]> }>;
}

// Header names as real MIME headers are spelled; values printable ASCII without edge whitespace (every parser trims it).
const headerName = fc
  .stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/)
  .filter((n) => !/^content-(type|disposition|length)$/i.test(n));
const headerValue = fc.stringMatching(/^[!-~]([ -~]{0,24}[!-~])?$/);
const headers = fc.uniqueArray(fc.tuple(headerName, headerValue), { maxLength: 3, selector: ([n]) => n.toLowerCase() });
const contentType = fc.option(
  fc.constantFrom(
    'text/plain',
    'application/json; charset=UTF-8',
    'image/png',
    'application/http',
    'application/octet-stream',
  ),
  { nil: undefined },
);

const { tree } = fc.letrec<{ tree: TreeSpec; part: TreeSpec['parts'][number] }>((tie) => ({
  tree: fc.record({
    subtype: fc.constantFrom('related', 'mixed', 'alternative', 'x-custom'),
    parts: fc.array(tie('part'), { minLength: 1, maxLength: 4 }),
  }),
  part: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({
      kind: fc.constantFrom<LeafSpec['kind']>('text', 'bytes', 'file', 'stream', 'blob'),
      data: fc.uint8Array({ maxLength: 2500 }),
      contentType,
      headers,
    }),
    fc.record({ kind: fc.constant<'nested'>('nested'), tree: tie('tree'), headers }),
  ),
}));

async function encodeTree(spec: TreeSpec): Promise<EncodedForm> {
  const params = [];
  for (const part of spec.parts) {
    const extra = Object.fromEntries(part.headers);
    if (part.kind === 'nested') {
      params.push(new MultipartParam(null, { value: await encodeTree(part.tree), headers: extra }));
      continue;
    }
    const typed = { headers: part.contentType === undefined ? extra : { ...extra, 'Content-Type': part.contentType } };
    const bytes = Buffer.from(part.data);
    switch (part.kind) {
      case 'text':
        params.push(new MultipartParam(null, { value: bytes.toString('latin1'), ...typed }));
        break;
      case 'bytes':
        params.push(new MultipartParam(null, { value: bytes, ...typed }));
        break;
      case 'blob':
        params.push(new MultipartParam(null, { fileobj: new Blob([bytes]), ...typed }));
        break;
      case 'stream':
        params.push(new MultipartParam(null, { fileobj: Readable.from([bytes]), filesize: bytes.length, ...typed }));
        break;
      case 'file':
        params.push(await MultipartParam.fromFile(null, writeFile(dir, `t${files++}.bin`, bytes), typed));
        break;
    }
  }
  return multipartEncode(params, { subtype: spec.subtype, blockSize: 977, syncReadLimit: 0 });
}

/** What the tree must come back as: each part's headers (as sent) and bytes. */
function expectTree(parsed: MimeTree, spec: TreeSpec, parser: string): void {
  expect(parsed.error, parser).toBeUndefined();
  expect(parsed.parts?.length ?? 0, parser).toBe(spec.parts.length);
  spec.parts.forEach((part, i) => {
    const got = parsed.parts![i]!;
    for (const [name, value] of part.headers) expect(header(got, name), `${parser}: header ${name}`).toBe(value);
    if (part.kind === 'nested') {
      expect(header(got, 'content-type')).toMatch(new RegExp(`^multipart/${part.tree.subtype}; boundary=`));
      expectTree(got, part.tree, parser);
      return;
    }
    const type =
      part.contentType ?? (part.kind === 'text' || part.kind === 'bytes' ? undefined : 'application/octet-stream');
    expect(header(got, 'content-type'), parser).toBe(type);
    // Nothing but the headers given: no line was added or lost.
    expect(got.headers.length, parser).toBe(part.headers.length + (type === undefined ? 0 : 1));
    // A text value is a string (here the data read as latin1), sent as UTF-8.
    const sent =
      part.kind === 'text' ? Buffer.from(Buffer.from(part.data).toString('latin1'), 'utf8') : Buffer.from(part.data);
    expect(got.body?.toString('hex'), parser).toBe(sent.toString('hex'));
  });
}

describe('property: any tree of parts (subtypes, headers, nesting, files, streams)', () => {
  it('declares the length it produces, and Python email and Go mime/multipart give back the same tree', async () => {
    await fc.assert(
      fc.asyncProperty(tree, async (spec) => {
        const form = await encodeTree(spec);
        const body = await collect(form.body);
        expect(body.length).toBe(form.contentLength);
        expect(form.headers['Content-Length']).toBe(String(body.length));
        const request = { contentType: form.headers['Content-Type']!, body };
        const [python] = await parseWithPythonEmail([request]);
        expect(python!.defects).toEqual([]);
        expectTree(python!, spec, 'python');
        const [go] = await parseWithGo([request]);
        expectTree(go!, spec, 'go');
      }),
      { numRuns: 40 },
    );
  });
});

describe('property: no header name or value can add a line or a part', () => {
  it('either a typed error, or the part carries exactly that header', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(trickyString(8), headerName),
        fc.oneof(trickyString(8), headerValue),
        async (name, value) => {
          let param: MultipartParam;
          try {
            param = new MultipartParam(null, { value: 'data', headers: [[name, value]] });
          } catch (error) {
            expect(error).toBeInstanceOf(MultipartError);
            expect(['ERR_INVALID_HEADER_NAME', 'ERR_INVALID_HEADER_VALUE', 'ERR_HEADER_CONFLICT']).toContain(
              (error as MultipartError).code,
            );
            return;
          }
          expect(name).not.toMatch(/[\r\n:]/);
          expect(value).not.toMatch(/[\r\n]/);
          const form = await multipartEncode([param, new MultipartParam(null, { value: 'second' })], {
            subtype: 'mixed',
          });
          const [parsed] = await parseWithPythonEmail([
            { contentType: form.headers['Content-Type']!, body: await collect(form.body) },
          ]);
          expect(parsed!.parts).toHaveLength(2);
          const [first] = parsed!.parts!;
          expect(first!.headers.map(([n]) => n.toLowerCase())).toEqual(
            name.toLowerCase() === 'content-type' ? ['content-type'] : [name.toLowerCase()],
          );
          expect(first!.body?.toString()).toBe('data');
        },
      ),
      { numRuns: 80 },
    );
  });
});
