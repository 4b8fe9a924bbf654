// Random appends made to form-data 4.0.6 and to the drop-in, with the same boundary: the bodies must be
// equal byte for byte, and so must the lengths. The inputs leave out only what differences.test.ts
// shows differs on purpose (bare CR or LF in names, text with a filename of unknown type, Content-Type or
// Content-Disposition in `header`, the 73 extensions mime-types 3 guesses otherwise, an empty form, ranges
// with an end and no start or a start past the file's end).
import { createReadStream } from 'node:fs';
import OriginalFormData from 'form-data';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import FormData from '../../src/form-data/index.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { bodyOf } from './helpers.js';

const dir = tempDir();
const FILE_SIZES = [0, 1, 100, 70_000];
const files = FILE_SIZES.map((size, i) => writeFile(dir, `file-${i}.txt`, bytes(size, i + 1)));

const name = fc
  .array(fc.constantFrom('a', 'Z', '0', '_', '-', ' ', '"', '\r\n', ';', '%', '\\', '[', ']', 'é', '€', '😀', '\t'), {
    maxLength: 8,
  })
  .map((pieces) => pieces.join(''));
const filename = fc.constantFrom(
  'a.txt',
  'photo.png',
  'data.json',
  'x.jpg',
  'blob.bin',
  'page.html',
  'rows.csv',
  'dir/sub/doc.pdf',
  'we"ird\r\n.gz',
);
const headerValue = fc.oneof(
  fc.string({ maxLength: 12 }).map((s) => s.replace(/[\x00-\x1f\x7f]/g, '')),
  fc.integer(),
  fc.array(fc.constantFrom('x', 'y=1', 'z'), { maxLength: 3 }),
  fc.constant(null),
);

type Value =
  | { kind: 'text'; value: string | number | null | undefined }
  | { kind: 'bytes'; value: Uint8Array }
  | { kind: 'file'; index: number; range: { start?: number; end?: number } | undefined };

const value: fc.Arbitrary<Value> = fc.oneof(
  fc.record({
    kind: fc.constant('text' as const),
    value: fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.double(),
      fc.integer(),
      fc.constant(null),
      fc.constant(undefined),
    ),
  }),
  fc.record({
    kind: fc.constant('bytes' as const),
    value: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  }),
  fc.record({
    kind: fc.constant('file' as const),
    index: fc.integer({ min: 0, max: FILE_SIZES.length - 1 }),
    range: fc.option(
      fc.record(
        { start: fc.integer({ min: 0, max: 120 }), end: fc.integer({ min: 0, max: 200 }) },
        { requiredKeys: ['start'] },
      ),
      { nil: undefined },
    ),
  }),
);

const options = fc.option(
  fc.oneof(
    filename,
    fc.record(
      {
        filename,
        filepath: fc.constantFrom('a/../b/c.txt', 'x\\y.png', './rel/data.json'),
        contentType: fc.constantFrom('text/plain', 'image/png; x=1', 'application/json'),
        header: fc.dictionary(fc.constantFrom('X-A', 'X-Long-Name', 'Content-ID'), headerValue, { maxKeys: 2 }),
        withLength: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
  ),
  { nil: undefined },
);

const field = fc.record({ name, value, options });
const boundary = fc.stringMatching(/^[0-9A-Za-z'+_\-.]{1,20}$/).map((b) => `----${b}`);

/** A range fs.createReadStream takes and both packages count alike: a start, and an end within the file. */
function fileRange(index: number, range: { start?: number; end?: number } | undefined) {
  if (range === undefined) return undefined;
  const size = FILE_SIZES[index]!;
  // A start past the end makes form-data count a negative length (differences.test.ts).
  if (range.end === undefined || size === 0) return { start: Math.min(range.start!, size) };
  return { start: Math.min(range.start!, size - 1), end: Math.min(Math.max(range.end, range.start!), size - 1) };
}

function sizeOf(v: Value): number {
  if (v.kind === 'bytes') return v.value.length;
  if (v.kind === 'text') return Buffer.byteLength(String(v.value));
  const range = fileRange(v.index, v.range);
  const size = FILE_SIZES[v.index]!;
  const end = range?.end ?? size - 1;
  return Math.max(end - (range?.start ?? 0) + 1, 0);
}

/** form-data's argument for one generated field (a fresh stream for each form). */
function appendTo(form: FormData | OriginalFormData, f: { name: string; value: Value; options: unknown }): void {
  const v = f.value;
  const given = v.kind === 'file' ? createReadStream(files[v.index]!, fileRange(v.index, v.range)) : v.value;
  let opts = f.options as string | { withLength?: boolean; filename?: string; header?: object } | undefined;
  if (typeof opts === 'object') {
    const { withLength, ...rest } = opts;
    opts = withLength ? ({ ...rest, knownLength: sizeOf(v) } as never) : rest;
  }
  // Text with a filename whose type no table knows differs on purpose; every filename here has a known type.
  (form as FormData).append(f.name, given, opts as FormData.AppendOptions);
}

describe('form-data 4.0.6 and the drop-in, same appends, same boundary', () => {
  it('stream the same bytes, and count the same length', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(field, { minLength: 1, maxLength: 6 }), boundary, async (fields, b) => {
        const theirs = new OriginalFormData();
        const ours = new FormData();
        theirs.setBoundary(b);
        ours.setBoundary(b);
        for (const f of fields) {
          appendTo(theirs, f);
          appendTo(ours, f);
        }
        const theirLength = await new Promise<number>((resolve, reject) =>
          theirs.getLength((e, l) => (e ? reject(e) : resolve(l))),
        );
        const expected = await bodyOf(theirs as unknown as FormData);
        expect(theirLength).toBe(expected.length);
        const body = await bodyOf(ours);
        expect(body.toString('latin1')).toBe(expected.toString('latin1'));
        expect(ours.getLengthSync()).toBe(expected.length);
        if (
          fields.every((f) => f.value.kind !== 'file') &&
          fields.every((f) => typeof (f.options as { header?: unknown })?.header !== 'string')
        ) {
          expect(ours.getBuffer().equals(expected)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});
