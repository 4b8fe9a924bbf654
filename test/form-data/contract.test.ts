// form-data's own test suite (test/integration/*.js in its repository) is the contract: each block
// here checks, in this project's style, a behaviour one of its files checks (named in the describe).
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import FormData from '../../src/form-data/index.js';
import { MultipartError } from '../../src/index.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { bodyOf } from './helpers.js';

const CRLF = '\r\n';

function lengthOf(form: FormData): Promise<[unknown, number | undefined]> {
  return new Promise((resolve) => form.getLength((error, length) => resolve([error, length])));
}

/** A Readable of unknown length, as form-data's tests make one. */
function twoChunks(): Readable {
  return Readable.from(['1', '2'], { objectMode: false });
}

describe('test-get-boundary, test-set-boundary: boundaries', () => {
  it('keeps one 50-character boundary per form, a different one for each form', () => {
    const form = new FormData();
    expect(form.getBoundary()).toBe(form.getBoundary());
    expect(form.getBoundary()).toHaveLength(50);
    expect(new FormData().getBoundary()).not.toBe(form.getBoundary());
  });

  it('uses the boundary set, and leaves other forms theirs', () => {
    const form = new FormData();
    form.setBoundary('---something');
    expect(form.getBoundary()).toBe('---something');
    expect(new FormData().getBoundary()).not.toBe('---something');
  });

  it.each([123, null, undefined, { value: 123 }, ['---something']])(
    'refuses the non-string %j with a TypeError',
    (value) => {
      expect(() => new FormData().setBoundary(value as unknown as string)).toThrow(TypeError);
    },
  );

  it('takes its randomness from crypto, not Math.random (test-boundary-prediction)', () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    try {
      const boundaries = new Set(Array.from({ length: 20 }, () => new FormData().getBoundary()));
      expect(boundaries.size).toBe(20);
      expect(random).not.toHaveBeenCalled();
    } finally {
      random.mockRestore();
    }
  });
});

describe('test-get-buffer, test-set-nonstring, test-last_boundary-line_break: the bytes', () => {
  it('gives a Buffer of exactly the fields, numbers as text, bytes with application/octet-stream', () => {
    const form = new FormData();
    const bufferValue = Buffer.from([0x00, 0x4a, 0x45, 0x46, 0x46, 0x52, 0x45, 0x59, 0x255]);
    form.append('String', 'This is a random string');
    form.append('Int', 1549873167987);
    form.append('Buffer', bufferValue);
    const b = form.getBoundary();
    const expected = Buffer.concat([
      Buffer.from(
        `--${b}${CRLF}Content-Disposition: form-data; name="String"${CRLF}${CRLF}This is a random string${CRLF}` +
          `--${b}${CRLF}Content-Disposition: form-data; name="Int"${CRLF}${CRLF}1549873167987${CRLF}` +
          `--${b}${CRLF}Content-Disposition: form-data; name="Buffer"${CRLF}Content-Type: application/octet-stream${CRLF}${CRLF}`,
      ),
      bufferValue,
      Buffer.from(`${CRLF}--${b}--${CRLF}`),
    ]);
    expect(Buffer.isBuffer(form.getBuffer())).toBe(true);
    expect(form.getBuffer().toString('hex')).toBe(expected.toString('hex'));
  });

  it.each([
    [undefined, 'undefined'],
    [null, 'null'],
    [NaN, 'NaN'],
    [-0.5, '-0.5'],
  ])('sends %j as the text %j', (value, text) => {
    const form = new FormData();
    expect(() => form.append('key', value)).not.toThrow();
    expect(form.getBuffer().toString().split(form.getBoundary())).toEqual([
      '--',
      `${CRLF}Content-Disposition: form-data; name="key"${CRLF}${CRLF}${text}${CRLF}--`,
      `--${CRLF}`,
    ]);
  });

  it('ends the streamed body with a line break, as getBuffer() does', async () => {
    const form = new FormData();
    form.append('field', 'value');
    const body = await bodyOf(form);
    expect(body.subarray(-2).toString()).toBe(CRLF);
    expect(body.equals(form.getBuffer())).toBe(true);
  });

  it('says [object FormData] (test-to-string), for axios and other duck-typers', () => {
    expect(String(new FormData())).toBe('[object FormData]');
    expect(Object.prototype.toString.call(new FormData())).toBe('[object FormData]');
  });

  it('keeps form-data constructor options as properties (test-options-override)', () => {
    expect(new FormData({ maxDataSize: 20 * 1024 * 1024 }).maxDataSize).toBe(20 * 1024 * 1024);
    expect(FormData.LINE_BREAK).toBe(CRLF);
    expect(FormData.DEFAULT_CONTENT_TYPE).toBe('application/octet-stream');
  });
});

describe('test-form-get-length-sync, test-form-get-length: lengths', () => {
  const fixtures = tempDir();
  const image = writeFile(fixtures, 'unicycle.jpg', bytes(19_806, 3));
  const text = writeFile(fixtures, 'veggies.txt', 'asparagus, broccoli, carrot, daikon, eggplant\n');

  it.each([
    [
      'a number, a string and a Buffer',
      [
        ['my_number', 123],
        ['my_string', 'Test 123'],
        ['my_buffer', Buffer.from('123')],
      ],
      3 + 8 + 3,
    ],
    ['a UTF-8 string', [['my_field', 'May the € be with you']], Buffer.byteLength('May the € be with you')],
    ['a Buffer of 23 bytes', [['my_field', Buffer.alloc(23)]], 23],
  ] as const)('counts %s: getLengthSync() and getLength() agree with the body', async (_what, fields, valueBytes) => {
    const form = new FormData();
    for (const [name, value] of fields) form.append(name, value);
    const expected = form._overheadLength + form._lastBoundary().length + valueBytes;
    expect(form.getLengthSync()).toBe(expected);
    let called = false;
    const length = lengthOf(form).finally(() => (called = true));
    expect(called).toBe(false); // never calls back synchronously
    expect(await length).toEqual([null, expected]);
    expect((await bodyOf(form)).length).toBe(expected);
  });

  it('counts fs.ReadStreams by their file, with or without knownLength', async () => {
    for (const knownLength of [undefined, statSync(image).size]) {
      const form = new FormData();
      form.append('my_string', 'Test 123');
      form.append('my_image', createReadStream(image), knownLength === undefined ? undefined : { knownLength });
      form.append('my_buffer', Buffer.from('123'));
      form.append('my_txt', createReadStream(text));
      const expected =
        form._overheadLength + form._lastBoundary().length + 8 + statSync(image).size + 3 + statSync(text).size;
      expect(form.hasKnownLength()).toBe(true);
      expect(form.getLengthSync()).toBe(expected); // form-data throws here without knownLength
      expect(await lengthOf(form)).toEqual([null, expected]);
      expect((await bodyOf(form)).length).toBe(expected);
    }
  });

  it('cannot count a stream of unknown length: getLengthSync() throws, getLength() says Unknown stream', async () => {
    const form = new FormData();
    form.append('my_txt', twoChunks());
    expect(form.hasKnownLength()).toBe(false);
    expect(() => form.getLengthSync()).toThrow(/Cannot calculate proper length in synchronous way/);
    expect(() => form.getLengthSync()).toThrow(expect.objectContaining({ code: 'ERR_SIZE_UNKNOWN' }));
    expect(await lengthOf(form)).toEqual(['Unknown stream', undefined]);
  });

  it('counts an empty form as its close delimiter, the body it sends (form-data says 0 and sends nothing)', async () => {
    const form = new FormData();
    const expected = form._lastBoundary().length;
    expect(await lengthOf(form)).toEqual([null, expected]);
    expect((await bodyOf(form)).toString()).toBe(form._lastBoundary());
  });
});

describe('test-errors: what is refused', () => {
  it("refuses an array through the error event, with form-data's message, and appends nothing", () => {
    const form = new FormData();
    const errors: unknown[] = [];
    form.on('error', (error) => errors.push(error));
    form.append('my_array', ['bird', 'cute']);
    expect(errors).toEqual([
      expect.objectContaining({ message: 'Arrays are not supported.', code: 'ERR_INVALID_VALUE' }),
    ]);
    expect(errors[0]).toBeInstanceOf(MultipartError);
    expect(form.getBuffer().toString()).toBe(form._lastBoundary());
  });

  it('throws from append() what nobody listens for', () => {
    expect(() => new FormData().append('my_array', ['bird'])).toThrow('Arrays are not supported.');
  });

  it('fails the stream with a typed error when a file cannot be read (form-data passes the raw ENOENT)', async () => {
    const form = new FormData();
    form.append('fake-stream', createReadStream(join(tempDir(), 'why-u-no-exists')));
    expect(form.hasKnownLength()).toBe(false);
    const [error] = await lengthOf(form);
    expect(error).toMatchObject({ code: 'ERR_FILE_UNREADABLE', cause: expect.objectContaining({ code: 'ENOENT' }) });
    await expect(bodyOf(form)).rejects.toMatchObject({ code: 'ERR_FILE_UNREADABLE', paramName: 'fake-stream' });
  });
});
