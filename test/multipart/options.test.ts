import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MultipartError, multipartEncode, MultipartParam, rawBody } from '../../src/index.js';
import { tempDir, writeFile } from '../helpers/files.js';

// The encoder's options (src/multipart/options.ts, param-options.ts), as a hostile caller gives
// them. The rule (docs/errors.md): a bad option is ERR_INVALID_OPTION, a MultipartError, from every
// encoder entry point alike; nothing is opened or read before the options are checked.
const dir = tempDir();
const path = writeFile(dir, 'f.txt', 'abc');

/** Each entry point that takes the option, called with it set to `value`. */
type Entry = [name: string, call: (value: unknown) => unknown];

const encode = (option: string): Entry => [
  'multipartEncode',
  (value) => multipartEncode({ a: 'b' }, { [option]: value }),
];
const raw = (option: string): Entry => ['rawBody', (value) => rawBody(new Uint8Array(3), { [option]: value })];
const rawFile = (option: string): Entry => ['rawBody(path)', (value) => rawBody(path, { [option]: value })];
const spoolOf = (option: string): Entry[] => [
  ['multipartEncode spool', (value) => multipartEncode({ a: 'b' }, { spool: { [option]: value } })],
  ['rawBody spool', (value) => rawBody(new Uint8Array(1), { spool: { [option]: value } })],
];

const NUMBERS: unknown[] = [NaN, Infinity, -Infinity, -1, 1.5, 2 ** 53, '1', 1n, null, true, {}, []];

/** option → the entry points that take it, and values each must refuse. */
const table: Array<[option: string, entries: Entry[], bad: unknown[]]> = [
  [
    'blockSize',
    [
      encode('blockSize'),
      raw('blockSize'),
      rawFile('blockSize'),
      ['iterEncode', (value) => new MultipartParam('a', { value: 'x' }).iterEncode('B', value as number)],
    ],
    [0, 2 ** 31, ...NUMBERS],
  ],
  ['syncReadLimit', [encode('syncReadLimit'), raw('syncReadLimit')], NUMBERS],
  ['spool.memoryLimit', spoolOf('memoryLimit'), NUMBERS],
  ['spool.maxBytes', spoolOf('maxBytes'), NUMBERS],
  ['spool.dir', spoolOf('dir'), ['', 1, null, {}, true]],
  ['spool', [encode('spool'), raw('spool')], [1, 'yes', null, [], () => {}]],
  ['size', [raw('size'), rawFile('size')], NUMBERS],
  [
    'filesize',
    [['MultipartParam', (value) => new MultipartParam('a', { value: 'x', filesize: value as number })]],
    NUMBERS,
  ],
  ['onProgress', [encode('onProgress'), raw('onProgress')], ['fn', 1, null, {}, true]],
  [
    'cb',
    [
      ['MultipartParam', (value) => new MultipartParam('a', { value: 'x', cb: value as never })],
      ['fromFile', (value) => MultipartParam.fromFile('a', path, { cb: value as never })],
    ],
    ['fn', 1, null, {}],
  ],
  ['signal', [encode('signal'), raw('signal')], [new AbortController(), {}, 'signal', 1, null, { aborted: false }]],
  ['subtype', [encode('subtype')], ['', 'mixed; x=1', 'a b', 'multipart/mixed', 'ü', 1, null]],
  [
    'parameters',
    [encode('parameters')],
    [
      'x=1',
      1,
      null,
      [['a']],
      [[1, 'x']],
      { 'a b': 'x' },
      { a: '\n' },
      { a: 1 },
      { boundary: 'x' },
      [
        ['t', 'a'],
        ['T', 'b'],
      ],
    ],
  ],
];

async function codeOf(call: () => unknown): Promise<string | undefined> {
  try {
    await call();
  } catch (error) {
    expect(error).toBeInstanceOf(MultipartError);
    return (error as MultipartError).code;
  }
  return undefined;
}

describe('a bad option is ERR_INVALID_OPTION, from every entry point that takes it', () => {
  for (const [option, entries, bad] of table) {
    for (const [entry, call] of entries) {
      it(`${option} (${entry})`, async () => {
        for (const value of bad)
          expect(await codeOf(() => call(value)), `${option}: ${String(value)}`).toBe('ERR_INVALID_OPTION');
      });
    }
  }

  it.each<[string, () => unknown]>([
    ['multipartEncode', () => multipartEncode({ a: 'b' }, { blocksize: 1 } as never)],
    ['multipartEncode (a key of upload())', () => multipartEncode({ a: 'b' }, { timeout: 1 } as never)],
    ['rawBody', () => rawBody(new Uint8Array(1), { contentType: 'x/y' } as never)],
    ['rawBody (a key of multipartEncode)', () => rawBody(new Uint8Array(1), { boundary: 'x' } as never)],
    ['multipartEncode spool', () => multipartEncode({ a: 'b' }, { spool: { memorylimit: 1 } as never })],
    ['MultipartParam', () => new MultipartParam('f', { value: 'x', header: {} } as never)],
    ["MultipartParam (fromFile's start)", () => new MultipartParam('f', { value: 'x', start: 1 } as never)],
    ['fromFile', () => MultipartParam.fromFile('f', path, { stop: 4 } as never)],
    ['fromFile (a MultipartParam key)', () => MultipartParam.fromFile('f', path, { value: 'x' } as never)],
    ['options that are an array', () => multipartEncode({ a: 'b' }, [] as never)],
    ['options that are a string', () => rawBody(new Uint8Array(1), 'fast' as never)],
  ])('a misspelt or foreign key: %s', async (_label, call) => {
    expect(await codeOf(call)).toBe('ERR_INVALID_OPTION');
  });

  it('the message names the option and the ones that exist', async () => {
    await expect(multipartEncode({ a: 'b' }, { onUploadProgress: () => {} } as never)).rejects.toThrow(
      /unknown option "onUploadProgress" in options; known: .*onProgress/,
    );
    await expect(multipartEncode({ a: 'b' }, { blockSize: NaN })).rejects.toThrow(/blockSize must be a whole number/);
  });

  it('options are checked before anything is opened: a bad option with a missing file is the option', async () => {
    expect(await codeOf(() => rawBody(`${dir}/missing`, { blockSize: 0 }))).toBe('ERR_INVALID_OPTION');
  });
});

describe('options are read once: a getter cannot answer one thing to the check and another to its use', () => {
  it.each([
    ['multipartEncode', (options: object) => multipartEncode({ s: Readable.from(['abc']) }, options)],
    ['rawBody', (options: object) => rawBody(Readable.from(['abc']), options)],
  ])('%s with a signal that is an AbortSignal only when checked', async (_name, call) => {
    let reads = 0;
    const signal = new AbortController().signal;
    const options = Object.defineProperty({ spool: true }, 'signal', {
      enumerable: true,
      get: () => (reads++ === 0 ? signal : 42),
    });
    const encoded = await call(options);
    expect(encoded.contentLength).toBeGreaterThanOrEqual(3);
    expect(reads).toBe(1);
  });
});

describe('what the options allow', () => {
  it.each<[string, () => unknown]>([
    [
      'blockSize 1 and 2^31 - 1',
      () =>
        Promise.all([
          multipartEncode({ a: 'b' }, { blockSize: 1 }),
          multipartEncode({ a: 'b' }, { blockSize: 2 ** 31 - 1 }),
        ]),
    ],
    ['syncReadLimit 0', () => multipartEncode({ a: 'b' }, { syncReadLimit: 0 })],
    [
      'spool true and false',
      () => Promise.all([multipartEncode({ a: 'b' }, { spool: true }), multipartEncode({ a: 'b' }, { spool: false })]),
    ],
    ['spool sizes of 0', () => multipartEncode({ a: 'b' }, { spool: { memoryLimit: 0, maxBytes: 0 } })],
    ['an AbortSignal', () => multipartEncode({ a: 'b' }, { signal: AbortSignal.timeout(1000) })],
    ['a filesize of -0', () => new MultipartParam('a', { value: '', filesize: -0 })],
    [
      'undefined for every option',
      () => multipartEncode({ a: 'b' }, { blockSize: undefined, spool: undefined, signal: undefined }),
    ],
  ])('%s', async (_label, call) => {
    expect(await codeOf(call)).toBeUndefined();
  });
});

describe('what a part is, given wrong, is bad data with its own code', () => {
  it.each<[string, () => unknown, string]>([
    ['a name that is not a string', () => new MultipartParam(1 as never), 'ERR_INVALID_NAME'],
    [
      'a filename that is not a string',
      () => new MultipartParam('a', { value: 'x', filename: 1 as never }),
      'ERR_INVALID_VALUE',
    ],
    [
      'a filetype that is not a string',
      () => new MultipartParam('a', { value: 'x', filetype: 1 as never }),
      'ERR_INVALID_VALUE',
    ],
    [
      "rawBody's type that is not a string",
      () => rawBody(new Uint8Array(1), { type: 1 as never }),
      'ERR_INVALID_VALUE',
    ],
    [
      'a filetype with CR/LF',
      () => new MultipartParam('a', { value: 'x', filetype: 'a\r\nb' }),
      'ERR_INVALID_HEADER_VALUE',
    ],
    ["rawBody's type with CR/LF", () => rawBody(new Uint8Array(1), { type: 'a\nb' }), 'ERR_INVALID_HEADER_VALUE'],
    ['a value of the wrong kind', () => new MultipartParam('a', { value: 1 as never }), 'ERR_INVALID_VALUE'],
    ['a range out of the data', () => rawBody(new Uint8Array(1), { start: 2 }), 'ERR_INVALID_RANGE'],
    ['a NaN range bound', () => rawBody(new Uint8Array(1), { end: NaN }), 'ERR_INVALID_RANGE'],
    ['a range of a stream', () => rawBody((async function* () {})(), { start: 0 }), 'ERR_INVALID_OPTION'],
    ["a size that is not the bytes'", () => rawBody(new Uint8Array(2), { size: 3 }), 'ERR_SIZE_MISMATCH'],
    ["a size that is not the file's", () => rawBody(path, { size: 4 }), 'ERR_SIZE_MISMATCH'],
    ['a boundary RFC 2046 refuses', () => multipartEncode({ a: 'b' }, { boundary: 'a b ' }), 'ERR_INVALID_BOUNDARY'],
  ])('%s', async (_label, call, code) => {
    expect(await codeOf(call)).toBe(code);
  });
});
