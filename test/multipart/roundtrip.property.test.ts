import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeFilename, escapeName } from '../../src/multipart/escape.js';
import { multipartEncode, MultipartParam } from '../../src/index.js';
import { fieldSpec, type FieldSpec } from '../helpers/arbitraries.js';
import { collect, parseWithBusboy } from '../helpers/parse.js';
import { tempDir, writeFile } from '../helpers/files.js';

const dir = tempDir();
let fileCounter = 0;

/** Builds the param a spec describes, from a real source of its kind. */
async function toParam(spec: FieldSpec): Promise<MultipartParam> {
  const common = {
    ...(spec.filename === undefined ? {} : { filename: spec.filename }),
    ...(spec.filetype === undefined ? {} : { filetype: spec.filetype }),
  };
  switch (spec.kind) {
    case 'string':
      return new MultipartParam(spec.name, { value: spec.text, ...common });
    case 'bytes':
      return new MultipartParam(spec.name, { value: spec.data, ...common });
    case 'blob':
      return new MultipartParam(spec.name, { fileobj: new Blob([spec.data]), ...common });
    case 'stream':
      return new MultipartParam(spec.name, {
        fileobj: Readable.from([Buffer.from(spec.data)]),
        filesize: spec.data.length,
        ...common,
      });
    case 'webstream':
      return new MultipartParam(spec.name, {
        fileobj: new Blob([spec.data]).stream(),
        filesize: spec.data.length,
        ...common,
      });
    case 'file': {
      const path = writeFile(dir, `p${fileCounter++}.bin`, spec.data);
      return MultipartParam.fromFile(spec.name, path, common);
    }
  }
}

const bytesOf = (spec: FieldSpec) => (spec.kind === 'string' ? Buffer.from(spec.text, 'utf8') : Buffer.from(spec.data));

// busboy reads header values as HTTP does: `\\` and `\"` are quoted-string
// escapes (so a name ending in a backslash is misread, as a browser's would be)
// and control characters such as NUL are malformed. We send both as browsers do; such inputs
// are checked against undici's parser instead.
const busboyReadable = (s: string | undefined) =>
  s === undefined || (!s.endsWith('\\') && !/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s));
const busboySafe = (spec: FieldSpec) => busboyReadable(spec.name) && busboyReadable(spec.filename);
const busboyView = (escaped: string) => escaped.replace(/\\([\\"])/g, '$1');

// What a WHATWG-aware parser (undici's formData) gives back: the escapes undone.
const unescape = (s: string) => s.replaceAll('%0A', '\n').replaceAll('%0D', '\r').replaceAll('%22', '"');

describe('round trip through real parsers', () => {
  it('busboy gives back every name, filename, type and byte, in order; the length is exact', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fieldSpec.filter(busboySafe), { maxLength: 8 }), async (specs) => {
        const params = await Promise.all(specs.map(toParam));
        const form = await multipartEncode(params);
        const body = await collect(form.body);
        expect(body.length).toBe(form.contentLength);
        const parts = await parseWithBusboy(form.headers, body);
        expect(parts).toHaveLength(specs.length);
        parts.forEach((part, i) => {
          const spec = specs[i]!;
          expect(part.name).toBe(busboyView(escapeName(spec.name)));
          // busboy reads an empty filename (what a browser sends for an empty file input) as none
          expect(part.filename).toBe(
            params[i]!.filename === undefined
              ? undefined
              : busboyView(escapeFilename(params[i]!.filename!)) || undefined,
          );
          expect(part.type).toBe(params[i]!.filetype ?? 'text/plain');
          expect(part.data.equals(bytesOf(spec))).toBe(true);
        });
      }),
      { numRuns: 150 },
    );
  });

  it("undici's Response.formData() gives back the same fields", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fieldSpec, { maxLength: 6 }), async (specs) => {
        const params = await Promise.all(specs.map(toParam));
        const form = await multipartEncode(params);
        const parsed = [
          ...(await new Response(Readable.toWeb(Readable.from(form.body)) as ReadableStream, {
            headers: form.headers,
          }).formData()),
        ];
        expect(parsed).toHaveLength(specs.length);
        for (const [i, [name, value]] of parsed.entries()) {
          const spec = specs[i]!;
          const param = params[i]!;
          expect(name).toBe(unescape(escapeName(spec.name)));
          if (param.filename === undefined) {
            expect(typeof value).toBe('string');
            expect(value).toBe(bytesOf(spec).toString('utf8'));
          } else {
            const file = value as File;
            expect(file.name).toBe(unescape(escapeFilename(param.filename)));
            expect(file.type).toBe(param.filetype);
            expect(Buffer.from(await file.arrayBuffer()).equals(bytesOf(spec))).toBe(true);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('the declared length always equals the bytes produced, whatever the block size', async () => {
    await fc.assert(
      // syncReadLimit 0: every file is read in blocks of blockSize (the files are below the default limit).
      fc.asyncProperty(
        fc.array(fieldSpec.filter(busboySafe), { maxLength: 6 }),
        fc.integer({ min: 1, max: 5000 }),
        async (specs, blockSize) => {
          const params = await Promise.all(specs.map(toParam));
          const form = await multipartEncode(params, { blockSize, syncReadLimit: 0 });
          const body = await collect(form.body);
          expect(body.length).toBe(form.contentLength);
          const parts = await parseWithBusboy(form.headers, body);
          parts.forEach((part, i) => expect(part.data.equals(bytesOf(specs[i]!))).toBe(true));
        },
      ),
      { numRuns: 100 },
    );
  });
});
