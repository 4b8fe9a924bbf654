// Where the drop-in's bytes differ from form-data 4.0.6's on purpose (docs/migrate-from-form-data.md,
// "Every difference"): each row shows what form-data does and what the drop-in does instead.
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import OriginalFormData from 'form-data';
import { describe, expect, it } from 'vitest';
import FormData from '../../src/form-data/index.js';
import { lookupType } from '../../src/multipart/mime.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { bodyOf } from './helpers.js';

type AnyForm = FormData | OriginalFormData;
const B = 'diff-boundary';

function pair(fill: (form: AnyForm) => void): { ours: FormData; theirs: OriginalFormData } {
  const ours = new FormData();
  const theirs = new OriginalFormData();
  ours.setBoundary(B);
  theirs.setBoundary(B);
  fill(ours);
  fill(theirs);
  return { ours, theirs };
}

const part = (head: string, data: string) => `--${B}\r\n${head}\r\n\r\n${data}\r\n`;
const close = `--${B}--\r\n`;

describe('bytes that differ, and why', () => {
  it.each([
    [
      'a bare LF in a field name: escaped as CRLF, as browsers do (WHATWG), not %0A alone',
      (form: AnyForm) => form.append('a\nb', 'v'),
      part('Content-Disposition: form-data; name="a%0Ab"', 'v') + close,
      part('Content-Disposition: form-data; name="a%0D%0Ab"', 'v') + close,
    ],
    [
      'a bare CR in a field name: escaped as CRLF too',
      (form: AnyForm) => form.append('a\rb', 'v'),
      part('Content-Disposition: form-data; name="a%0Db"', 'v') + close,
      part('Content-Disposition: form-data; name="a%0D%0Ab"', 'v') + close,
    ],
    [
      'text with a filename of no known type: a file part always has a Content-Type (RFC 7578 §4.4)',
      (form: AnyForm) => form.append('x', 'y', 'a.unknownext'),
      part('Content-Disposition: form-data; name="x"; filename="a.unknownext"', 'y') + close,
      part(
        'Content-Disposition: form-data; name="x"; filename="a.unknownext"\r\nContent-Type: application/octet-stream',
        'y',
      ) + close,
    ],
    [
      "a Content-Type in header: the part's type (form-data drops it without a word)",
      (form: AnyForm) => form.append('x', '{}', { header: { 'Content-Type': 'application/json' } }),
      part('Content-Disposition: form-data; name="x"', '{}') + close,
      part('Content-Disposition: form-data; name="x"\r\nContent-Type: application/json', '{}') + close,
    ],
    [
      'a content-type in header in another case: one Content-Type line, not two',
      (form: AnyForm) => form.append('x', Buffer.from('{}'), { header: { 'content-type': 'application/json' } }),
      part(
        'Content-Disposition: form-data; name="x"\r\nContent-Type: application/octet-stream\r\ncontent-type: application/json',
        '{}',
      ) + close,
      part('Content-Disposition: form-data; name="x"\r\nContent-Type: application/json', '{}') + close,
    ],
    [
      'a .js file: text/javascript from mime-types 3 (RFC 9239), not application/javascript from mime-types 2',
      (form: AnyForm) => form.append('x', Buffer.from('1'), 'app.js'),
      part('Content-Disposition: form-data; name="x"; filename="app.js"\r\nContent-Type: application/javascript', '1') +
        close,
      part('Content-Disposition: form-data; name="x"; filename="app.js"\r\nContent-Type: text/javascript', '1') + close,
    ],
  ])('%s', async (_why, fill, theirs, ours) => {
    const forms = pair(fill);
    expect((await bodyOf(forms.theirs as unknown as FormData)).toString('latin1')).toBe(theirs);
    expect((await bodyOf(forms.ours)).toString('latin1')).toBe(ours);
  });

  it('an empty form: the close delimiter, a valid body (form-data streams nothing and counts 0, though its getBuffer() has it)', async () => {
    const { ours, theirs } = pair(() => {});
    expect((await bodyOf(theirs as unknown as FormData)).length).toBe(0);
    expect(theirs.getBuffer().toString()).toBe(close);
    expect((await bodyOf(ours)).toString()).toBe(close);
    expect(ours.getLengthSync()).toBe(close.length);
  });

  it('getBuffer(): the bytes the stream sends (form-data adds a CRLF after a header string, and has only the close delimiter once streamed)', async () => {
    const fill = (form: AnyForm) => form.append('x', 'y', { header: `\r\n--${B}\r\nX-A: 1\r\n\r\n` });
    const { ours, theirs } = pair(fill);
    expect(theirs.getBuffer().toString()).toBe(`\r\n--${B}\r\nX-A: 1\r\n\r\n\r\ny\r\n${close}`);
    expect(ours.getBuffer().toString()).toBe(`\r\n--${B}\r\nX-A: 1\r\n\r\ny\r\n${close}`);
    expect((await bodyOf(ours)).equals(ours.getBuffer())).toBe(true);
    await bodyOf(theirs as unknown as FormData);
    expect(theirs.getBuffer().toString()).toBe(close);
    expect(ours.getBuffer().toString()).toBe(`\r\n--${B}\r\nX-A: 1\r\n\r\ny\r\n${close}`);
  });

  it('a boundary with characters RFC 2045 wants quoted: getHeaders() quotes it', () => {
    const { ours, theirs } = pair(() => {});
    ours.setBoundary('a:b=c');
    theirs.setBoundary('a:b=c');
    expect(theirs.getHeaders()['content-type']).toBe('multipart/form-data; boundary=a:b=c');
    expect(ours.getHeaders()['content-type']).toBe('multipart/form-data; boundary="a:b=c"');
  });

  it("an fs.ReadStream with an end but no start: the range's length (form-data declares the whole file, and sends the range)", async () => {
    const path = writeFile(tempDir(), 'v.txt', '0123456789abcdefghijklmnopqrstuvwxyz');
    const { ours, theirs } = pair((form) => form.append('c', createReadStream(path, { end: 16 })));
    const declared = await new Promise<number>((resolve) => theirs.getLength((_e, length) => resolve(length)));
    const sent = (await bodyOf(theirs as unknown as FormData)).length;
    expect(declared - sent).toBe(36 - 17);
    expect((await bodyOf(ours)).length).toBe(ours.getLengthSync());
    expect(ours.getLengthSync()).toBe(sent);
  });
});

describe('lengths form-data gets wrong', () => {
  it("an fs.ReadStream that starts past its file's end: 0 bytes (form-data counts a negative length)", async () => {
    const path = writeFile(tempDir(), 'short.txt', 'abc');
    const { ours, theirs } = pair((form) => form.append('c', createReadStream(path, { start: 10 })));
    const declared = await new Promise<number>((resolve) => theirs.getLength((_e, length) => resolve(length)));
    const sent = (await bodyOf(theirs as unknown as FormData)).length;
    expect(declared - sent).toBe(-10 + 3);
    expect(ours.getLengthSync()).toBe(sent);
    expect((await bodyOf(ours)).length).toBe(sent);
  });
});

describe("Content-Type guesses: mime-types 3 (the library's table), not form-data's mime-types 2.1.35", () => {
  // form-data's own mime-types, from its node_modules.
  const old = createRequire(createRequire(import.meta.url).resolve('form-data'))('mime-types') as {
    lookup(path: string): string | false;
    types: Record<string, string>;
  };

  /** The extensions the two tables answer differently, as docs/migrate-from-form-data.md lists them. */
  function differing(): string[] {
    const ours = (createRequire(import.meta.url)('mime-types') as typeof old).types;
    const extensions = new Set([...Object.keys(old.types), ...Object.keys(ours)]);
    return [...extensions]
      .filter((extension) => (old.lookup(extension) || undefined) !== lookupType(`x.${extension}`))
      .sort();
  }

  it('differ for exactly the extensions the migration guide lists', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'migrate-from-form-data.md'), 'utf8');
    const block = /<!-- mime-differences:start -->([\s\S]*?)<!-- mime-differences:end -->/.exec(doc)?.[1] ?? '';
    const listed = [...block.matchAll(/`\.([a-z0-9]+)`/g)].map((m) => m[1]!).sort();
    expect(listed).toEqual(differing());
  });

  it('agree for every other extension', () => {
    const differ = new Set(differing());
    for (const extension of Object.keys(old.types)) {
      if (!differ.has(extension)) expect(lookupType(`x.${extension}`)).toBe(old.lookup(extension));
    }
  });
});
