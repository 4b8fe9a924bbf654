import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { multipartDecode } from '../../src/decoder/decode.js';
import { DecodeError } from '../../src/decoder/errors.js';
import { chunksOf, decodeAll, failure, splitAt } from './helpers.js';

const MiB = 1024 * 1024;
const B = 'b0undary';
const part = (headers: string, data: string) => `--${B}\r\n${headers}\r\n\r\n${data}\r\n`;
const form = (...parts: string[]) => Buffer.from(parts.join('') + `--${B}--\r\n`);
const field = (name: string, value: string) => part(`Content-Disposition: form-data; name="${name}"`, value);

/** An endless source: `head` once, then `block` forever; `stats` says how far it was read and whether it was let go. */
function endless(head: Buffer | string, block: Buffer) {
  const stats = { yielded: 0, closed: false };
  async function* generate() {
    try {
      yield Buffer.from(head);
      for (;;) {
        stats.yielded += block.length;
        yield block;
      }
    } finally {
      stats.closed = true;
    }
  }
  return { source: generate(), stats };
}

describe('malformed bodies: a typed error with the byte offset', () => {
  const cases: [what: string, body: string, code: string, offset: number][] = [
    ['an empty body', '', 'ERR_BOUNDARY_NOT_FOUND', 0],
    ['no delimiter at all', 'just text', 'ERR_BOUNDARY_NOT_FOUND', 9],
    [
      'LF line ends only',
      `--${B}\nContent-Disposition: form-data; name="a"\n\nx\n--${B}--\n`,
      'ERR_BOUNDARY_NOT_FOUND',
      68,
    ],
    ['the body ends after a delimiter', `--${B}`, 'ERR_TRUNCATED', 10],
    ['the body ends in a part header', `--${B}\r\nContent-Dispo`, 'ERR_TRUNCATED', 25],
    ['the body ends in a part body', `--${B}\r\nX: y\r\n\r\nsome data`, 'ERR_TRUNCATED', 29],
    ['no close delimiter', field('a', 'x'), 'ERR_TRUNCATED', 59],
    ['a delimiter followed by junk', `--${B}\r\nX: y\r\n\r\nx\r\n--${B}junk`, 'ERR_MALFORMED_DELIMITER', 33],
    ['a header line without a colon', `--${B}\r\nno colon here\r\n\r\nx\r\n--${B}--`, 'ERR_MALFORMED_HEADER', 12],
    ['a header name with a space', `--${B}\r\nBad Name: x\r\n\r\nx\r\n--${B}--`, 'ERR_MALFORMED_HEADER', 12],
    ['a space before the colon', `--${B}\r\nName : x\r\n\r\nx\r\n--${B}--`, 'ERR_MALFORMED_HEADER', 12],
    ['a header line ending in a bare LF', `--${B}\r\nA: x\nB: y\r\n\r\nx\r\n--${B}--`, 'ERR_MALFORMED_HEADER', 16],
    ['a bare CR inside a header line', `--${B}\r\nA: x\ry\r\n\r\nx\r\n--${B}--`, 'ERR_MALFORMED_HEADER', 16],
    [
      'a first header line that starts with a space',
      `--${B}\r\n folded: x\r\n\r\nx\r\n--${B}--`,
      'ERR_MALFORMED_HEADER',
      12,
    ],
    [
      'a part header that never ends (the next delimiter read as a header)',
      `--${B}\r\nA: x\r\n--${B}--\r\n`,
      'ERR_MALFORMED_HEADER',
      18,
    ],
  ];
  it.each(cases)('%s', async (_what, body, code, offset) => {
    const bytes = Buffer.from(body);
    // The same answer whatever the chunking.
    for (const chunks of [[bytes], chunksOf(bytes, 1), chunksOf(bytes, 7)]) {
      expect(await failure(decodeAll(chunks, { boundary: B }))).toMatchObject({ code, offset });
    }
  });

  it('errors are DecodeErrors, with the offset in the message', async () => {
    const error = await decodeAll([Buffer.from(`--${B}\r\nno colon\r\n\r\n`)], { boundary: B }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as Error).message).toMatch(/at byte 12/);
  });
});

describe('what is accepted around the delimiters', () => {
  it('a preamble, transport padding after a delimiter, an epilogue, a close delimiter without CRLF', async () => {
    const body = `preamble --${B}x\r\n--${B}  \t\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--${B}--`;
    expect(await decodeAll([Buffer.from(body)], { boundary: B })).toMatchObject([
      { name: 'a', data: Buffer.from('x') },
    ]);
    expect(
      await decodeAll([Buffer.from(`${form(field('a', 'x'))}epilogue\r\n--${B}\r\n`)], { boundary: B }),
    ).toHaveLength(1);
  });

  it("padding after a part's delimiter, whatever the chunking; more than maxHeaderBytes of it refused", async () => {
    const padded = Buffer.from(
      `--${B}\r\nX: 1\r\n\r\none\r\n--${B} \t \r\nX: 2\r\n\r\ntwo\r\n--${B}\t\r\n\r\n\r\n--${B}-- \r\n`,
    );
    const endless = Buffer.from(`--${B}\r\n\r\none\r\n--${B}${' '.repeat(300)}\r\n\r\n\r\n--${B}--`);
    for (let size = 1; size <= padded.length; size++) {
      const parts = await decodeAll(chunksOf(padded, size), { boundary: B });
      expect(parts.map(({ rawHeaders, data }) => [rawHeaders, data.toString()])).toEqual([
        [[['X', '1']], 'one'],
        [[['X', '2']], 'two'],
        [[], ''],
      ]);
      const error = await failure(decodeAll(chunksOf(endless, size), { boundary: B, maxHeaderBytes: 256 }));
      expect(error).toMatchObject({ code: 'ERR_HEADER_TOO_LARGE' });
    }
  });

  it('an empty form (the close delimiter alone), and an empty part', async () => {
    expect(await decodeAll([Buffer.from(`--${B}--\r\n`)], { boundary: B })).toEqual([]);
    expect(await decodeAll([Buffer.from(`--${B}\r\n\r\n\r\n--${B}--`)], { boundary: B })).toMatchObject([
      { rawHeaders: [], data: Buffer.alloc(0) },
    ]);
  });

  it('folded header lines are unfolded', async () => {
    const [decoded] = await decodeAll(
      [Buffer.from(`--${B}\r\nContent-Disposition: form-data;\r\n\tname="a"\r\nX: 1\r\n  2\r\n\r\nx\r\n--${B}--`)],
      { boundary: B },
    );
    expect(decoded!.rawHeaders).toEqual([
      ['Content-Disposition', 'form-data; name="a"'],
      ['X', '1 2'],
    ]);
    expect(decoded!.name).toBe('a');
  });
});

describe('the hostile table', () => {
  it('a boundary that never comes: refused once the preamble passes maxHeaderBytes, the source let go', async () => {
    const { source, stats } = endless('', Buffer.alloc(64 * 1024, 'x'));
    expect(await failure(decodeAll(source, { boundary: B }))).toMatchObject({
      code: 'ERR_BOUNDARY_NOT_FOUND',
      offset: 16 * 1024,
    });
    expect(stats.closed).toBe(true);
    expect(stats.yielded).toBeLessThan(MiB);
  });

  it('a header that never ends: ERR_HEADER_TOO_LARGE at maxHeaderBytes, the source let go', async () => {
    const { source, stats } = endless(`--${B}\r\nX-Long: `, Buffer.alloc(1000, 'a'));
    expect(await failure(decodeAll(source, { boundary: B, maxHeaderBytes: 4096 }))).toMatchObject({
      code: 'ERR_HEADER_TOO_LARGE',
      offset: 12 + 4096,
    });
    expect(stats.closed).toBe(true);
  });

  it('a header of endless short lines: ERR_TOO_MANY_HEADERS', async () => {
    const { source } = endless(`--${B}\r\n`, Buffer.from('X: y\r\n'));
    expect(await failure(decodeAll(source, { boundary: B, maxHeaderBytes: 1e6 }))).toMatchObject({
      code: 'ERR_TOO_MANY_HEADERS',
    });
  });

  it('a part of 10 GiB of nothing streams through in bounded memory, and maxPartBytes stops it', async () => {
    const zeros = Buffer.alloc(MiB);
    const parts = multipartDecode(
      (async function* () {
        yield Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="nothing"\r\n\r\n`);
        for (let i = 0; i < 10 * 1024; i++) yield zeros;
        yield Buffer.from(`\r\n--${B}--\r\n`);
      })(),
      { boundary: B },
    );
    const before = process.memoryUsage().rss;
    let size = 0;
    let peak = 0;
    for await (const decoded of parts) {
      for await (const piece of decoded) {
        size += piece.length;
        if ((size & (256 * MiB - 1)) === 0) peak = Math.max(peak, process.memoryUsage().rss - before);
      }
    }
    expect(size).toBe(10 * 1024 * MiB);
    expect(peak).toBeLessThan(200 * MiB);

    const { source, stats } = endless(`--${B}\r\n\r\n`, zeros);
    expect(await failure(decodeAll(source, { boundary: B, maxPartBytes: 100 * MiB }))).toMatchObject({
      code: 'ERR_PART_TOO_LARGE',
      offset: 14 + 100 * MiB,
    });
    expect(stats.closed).toBe(true);
  }, 120_000);

  it("ERR_PART_TOO_LARGE's offset is the first byte over the limit, however the body is chunked", async () => {
    const head = `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\n`;
    const body = Buffer.from(`${head}${'x'.repeat(101)}\r\n--${B}\r\n\r\nnext\r\n--${B}--\r\n`);
    const over = head.length + 100;
    const ways = [
      [body],
      chunksOf(body, 1),
      ...Array.from({ length: body.length - 1 }, (_, i) => splitAt(body, i + 1)),
    ];
    for (const chunks of ways) {
      expect(await failure(decodeAll(chunks, { boundary: B, maxPartBytes: 100 }))).toMatchObject({
        code: 'ERR_PART_TOO_LARGE',
        offset: over,
      });
    }
  });

  it('1,000,000 empty parts: each yielded with maxParts Infinity, ERR_TOO_MANY_PARTS at the default', async () => {
    const block = Buffer.from(`--${B}\r\n\r\n\r\n`.repeat(4096));
    const source = (count: number) =>
      (async function* () {
        for (let i = 0; i < count / 4096; i++) yield block;
        yield Buffer.from(`--${B}--\r\n`);
      })();
    let parts = 0;
    let headers = 0;
    for await (const decoded of multipartDecode(source(1_003_520), { boundary: B, maxParts: Infinity })) {
      parts++;
      headers += decoded.rawHeaders.length;
    }
    expect([parts, headers]).toEqual([1_003_520, 0]);
    expect(await failure(decodeAll(source(1_003_520), { boundary: B }))).toMatchObject({
      code: 'ERR_TOO_MANY_PARTS',
      offset: 10_000 * 16,
    });
  }, 120_000);

  it('parts in hand with a slow consumer: the event loop gets a turn at least every 8 parts', async () => {
    const body = form(...Array.from({ length: 64 }, (_, i) => field(`f${i}`, 'v')));
    let turns = 0;
    let partsSinceTurn = 0;
    let longest = 0;
    let running = true;
    const tick = () => {
      turns++;
      partsSinceTurn = 0;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    try {
      // One chunk holds every part; each costs its consumer 1 ms, so a slice of the loop ends every few.
      for await (const _part of multipartDecode([body], { boundary: B })) {
        const until = performance.now() + 1;
        while (performance.now() < until);
        longest = Math.max(longest, ++partsSinceTurn);
      }
    } finally {
      running = false;
    }
    expect(longest).toBeLessThanOrEqual(8);
    expect(turns).toBeGreaterThanOrEqual(64 / 8);
  });

  it('a delimiter split across every pair of chunks', async () => {
    const body = form(
      field('a', `x\r\n--${B.slice(0, 3)}`),
      part('Content-Disposition: form-data; name="b"; filename="f"', '--\r\n-'),
    );
    const expected = await decodeAll([body], { boundary: B });
    expect(expected.map((p) => p.data.toString())).toEqual([`x\r\n--${B.slice(0, 3)}`, '--\r\n-']);
    for (let i = 0; i <= body.length; i++) {
      for (let j = i; j <= body.length; j++)
        expect(await decodeAll(splitAt(body, i, j), { boundary: B })).toEqual(expected);
    }
  }, 120_000);

  it('a source that errors mid-part: ERR_SOURCE_FAILED with the offset and the cause, to the part body and to the loop', async () => {
    const cause = new Error('disk on fire');
    const source = (async function* () {
      yield Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nhalf`);
      throw cause;
    })();
    const parts = multipartDecode(source, { boundary: B });
    const first = await parts.next();
    const error = await first.value!.text().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_SOURCE_FAILED', offset: 60, cause });
    await expect(parts.next()).rejects.toBe(error);
  });

  it('a Readable that is destroyed mid-part, and one that errors', async () => {
    const stream = new Readable({ read() {} });
    stream.push(`--${B}\r\nX: y\r\n\r\nsome`);
    setTimeout(() => stream.destroy(), 10);
    expect(await failure(decodeAll(stream, { boundary: B }))).toMatchObject({ code: 'ERR_SOURCE_FAILED', offset: 24 });
    const failing = new Readable({ read() {} });
    failing.push(`--${B}\r\n`);
    setTimeout(() => failing.destroy(new Error('reset')), 10);
    expect(await failure(decodeAll(failing, { boundary: B }))).toMatchObject({
      code: 'ERR_SOURCE_FAILED',
      message: expect.stringMatching(/reset/),
    });
  });

  it('a consumer that stops reading: the source is let go (generator finished, Readable destroyed, ReadableStream cancelled)', async () => {
    const { source, stats } = endless(`--${B}\r\nX: y\r\n\r\n`, Buffer.alloc(16 * 1024, 'z'));
    for await (const decoded of multipartDecode(source, { boundary: B })) {
      for await (const _piece of decoded) break;
      break;
    }
    expect(stats.closed).toBe(true);

    const readable = Readable.from(endless(`--${B}\r\nX: y\r\n\r\n`, Buffer.alloc(1024)).source);
    const decoder = multipartDecode(readable, { boundary: B });
    await decoder.next();
    await decoder.return();
    expect(readable.destroyed).toBe(true);

    let cancelled = false;
    const web = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(Buffer.from(`--${B}\r\n\r\nxxxx`)),
      cancel: () => void (cancelled = true),
    });
    const fromWeb = multipartDecode(web, { boundary: B });
    await fromWeb.next();
    await fromWeb.return();
    expect(cancelled).toBe(true);
  });

  it('a stop while a read waits on a silent source ends that read', async () => {
    let closed = false;
    const silent = (async function* () {
      try {
        yield Buffer.from(`--${B}\r\n\r\nx`);
        await new Promise(() => {}); // never sends again
      } finally {
        closed = true;
      }
    })();
    const decoder = multipartDecode(silent, { boundary: B });
    const { value } = await decoder.next();
    const iterator = value![Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual(Buffer.from('x'));
    const waiting = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 10)); // the read is now waiting on the source
    await decoder.return();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_PART_SKIPPED' });
    // An async generator waiting on a promise that never settles cannot run its finally; the decoder has let it go.
    expect(closed).toBe(false);
  });

  it('maxBodyBytes counts the preamble and the epilogue', async () => {
    const body = Buffer.concat([
      Buffer.alloc(100, 'p'),
      Buffer.from('\r\n'),
      form(field('a', 'x')),
      Buffer.alloc(100, 'e'),
    ]);
    expect(await failure(decodeAll([body], { boundary: B, maxBodyBytes: body.length - 1 }))).toMatchObject({
      code: 'ERR_BODY_TOO_LARGE',
      offset: body.length - 1,
    });
    expect(await decodeAll([body], { boundary: B, maxBodyBytes: body.length })).toHaveLength(1);
  });
});

describe('parts read out of turn', () => {
  it('a part left unread is skipped; reading it later is ERR_PART_SKIPPED; reading twice is ERR_BODY_USED', async () => {
    const parts = multipartDecode([form(field('a', 'one'), field('b', 'two'))], { boundary: B });
    const a = (await parts.next()).value!;
    const b = (await parts.next()).value!;
    expect(await b.text()).toBe('two');
    expect(await failure(a.text())).toMatchObject({ code: 'ERR_PART_SKIPPED' });
    expect(await failure(b.text())).toMatchObject({ code: 'ERR_BODY_USED' });
    expect(b.bodyUsed).toBe(true);
    expect((await parts.next()).done).toBe(true);
  });

  it('a part body read while the loop asks for the next part: the reads take turns, in the order asked', async () => {
    const body = form(field('a', 'x'.repeat(100_000)), field('b', 'y'), field('c', 'z'.repeat(5000)));
    const parts = multipartDecode(chunksOf(body, 1000), { boundary: B });
    const pieces = (await parts.next()).value![Symbol.asyncIterator]();
    expect((await pieces.next()).value).toEqual(Buffer.from('x'.repeat(1000 - body.indexOf('xxx'))));
    const [piece, next] = await Promise.all([pieces.next(), parts.next()]);
    expect(piece.value).toEqual(Buffer.from('x'.repeat(1000)));
    expect(next.value!.name).toBe('b');
    await expect(pieces.next()).rejects.toMatchObject({ code: 'ERR_PART_SKIPPED' });
    // A web stream of a part errors the same way once the loop has moved past it.
    await next.value!.text();
    const c = (await parts.next()).value!;
    const reader = c.stream().getReader();
    await reader.read();
    await parts.next();
    await expect(reader.read()).rejects.toMatchObject({ code: 'ERR_PART_SKIPPED' });
  });

  it('text() and bytes() hold at most maxBytes (16 MiB by default)', async () => {
    const big = form(field('a', 'z'.repeat(17 * MiB)));
    const parts = multipartDecode([big], { boundary: B });
    expect(await failure((await parts.next()).value!.bytes())).toMatchObject({ code: 'ERR_PART_TOO_LARGE' });
    const again = multipartDecode([big], { boundary: B });
    expect((await (await again.next()).value!.text({ maxBytes: 17 * MiB })).length).toBe(17 * MiB);
  });

  it('json() parses, and refuses what is not JSON', async () => {
    const parts = multipartDecode([form(field('a', '{"x":[1,2]}'), field('b', '{nope'))], { boundary: B });
    expect(await (await parts.next()).value!.json()).toEqual({ x: [1, 2] });
    expect(await failure((await parts.next()).value!.json())).toMatchObject({ code: 'ERR_INVALID_JSON' });
  });
});

describe('options and sources out of range: ERR_INVALID_OPTION or ERR_INVALID_SOURCE, thrown at once', () => {
  const body = [form(field('a', 'x'))];
  it.each([
    [{ maxParts: NaN }],
    [{ maxParts: -1 }],
    [{ maxParts: 0 }],
    [{ maxParts: 1.5 }],
    [{ maxPartBytes: '10' }],
    [{ maxHeaderBytes: Infinity }],
    [{ maxHeaderPairs: Infinity }],
    [{ maxBodyBytes: 2 ** 53 }],
    [{ maxpartbytes: 10 }],
    [{ boundary: 5 }],
    [{ contentType: null }],
    ['options'],
  ])('%j', (options) => {
    expect(() => multipartDecode(body, { boundary: B, ...(options as object) })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    );
  });

  it('names the largest whole number taken: 2**53 looks whole', () => {
    expect(() => multipartDecode(body, { boundary: B, maxBodyBytes: 2 ** 53 })).toThrow(
      'maxBodyBytes must be a whole number from 1 to 9007199254740991, or Infinity, not number 9007199254740992',
    );
  });

  it('accepts 2**31, Infinity for sizes and counts', async () => {
    expect(
      await decodeAll(body, { boundary: B, maxBodyBytes: 2 ** 31, maxParts: Infinity, maxPartBytes: Infinity }),
    ).toHaveLength(1);
  });

  it.each([
    ['no Content-Type nor boundary', {}, 'ERR_INVALID_CONTENT_TYPE'],
    ['a Content-Type that is not multipart', { contentType: 'application/json' }, 'ERR_INVALID_CONTENT_TYPE'],
    ['a multipart Content-Type without a boundary', { contentType: 'multipart/form-data' }, 'ERR_INVALID_CONTENT_TYPE'],
    ['an empty boundary', { contentType: 'multipart/form-data; boundary=""' }, 'ERR_INVALID_BOUNDARY'],
    ['a boundary over 1000 characters', { boundary: 'x'.repeat(1001) }, 'ERR_INVALID_BOUNDARY'],
    ['a boundary with a control character', { boundary: 'a\tb' }, 'ERR_INVALID_BOUNDARY'],
    ['a boundary beyond ASCII', { boundary: 'é' }, 'ERR_INVALID_BOUNDARY'],
  ])('%s', (_what, options, code) => {
    expect(() => multipartDecode(body, options)).toThrow(expect.objectContaining({ code }));
  });

  it.each([
    ['a number', 42],
    ['a string', 'text'],
    ['null', null],
    ['a plain object', {}],
  ])('a source that is %s', (_what, source) => {
    expect(() => multipartDecode(source as never, { boundary: B })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_SOURCE' }),
    );
  });

  it('a source that gives text or numbers instead of bytes: ERR_INVALID_SOURCE with the offset', async () => {
    expect(await failure(decodeAll([Buffer.from(`--${B}\r\n`), 'text' as never], { boundary: B }))).toMatchObject({
      code: 'ERR_INVALID_SOURCE',
      offset: 12,
    });
    const stream = Readable.from(['text']);
    expect(await failure(decodeAll(stream, { boundary: B }))).toMatchObject({ code: 'ERR_INVALID_SOURCE' });
  });

  it('a used Response, a locked ReadableStream', () => {
    const response = new Response('x');
    void response.text();
    expect(() => multipartDecode(response, { boundary: B })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_SOURCE' }),
    );
    const stream = new Response('x').body!;
    stream.getReader();
    expect(() => multipartDecode(stream, { boundary: B })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_SOURCE' }),
    );
  });

  it('a 1000-character boundary works', async () => {
    const long = 'q'.repeat(1000);
    const body = Buffer.from(`--${long}\r\nX: 1\r\n\r\ndata\r\n--${long}--`);
    for (const chunks of [[body], chunksOf(body, 100), chunksOf(body, 999)]) {
      expect(await decodeAll(chunks, { boundary: long })).toMatchObject([{ data: Buffer.from('data') }]);
    }
  });
});
