// The public multipartDecode(), decodeBatch() and decodeByteRanges() load the parser on their first
// call (src/decoder/deferred.ts): until it has loaded they answer through a stand-in. Each test
// here starts from a fresh copy of the module, so that its first call is the one that loads.
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DecodeError } from '../../src/decoder/errors.js';

type Deferred = typeof import('../../src/decoder/deferred.js');

async function fresh(): Promise<Deferred> {
  vi.resetModules();
  return import('../../src/decoder/deferred.js');
}

afterEach(() => {
  vi.doUnmock('../../src/decoder/loaded.js');
});

const body = (count: number) =>
  Buffer.from(
    Array.from(
      { length: count },
      (_, i) => `--b\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nv${i}\r\n`,
    ).join('') + '--b--\r\n',
  );

/** A Readable that has given nothing yet: a body still on its way. */
const pendingSource = () => new Readable({ read() {} });

describe('before the parser has loaded', () => {
  it('knows the boundary and media type at once, and throws on bad options and sources at once', async () => {
    const { multipartDecode, decodeBatch, decodeByteRanges } = await fresh();
    const decoder = multipartDecode(body(1), { contentType: 'multipart/form-data; boundary=b' });
    expect([decoder.boundary, decoder.mediaType]).toEqual(['b', 'multipart/form-data']);
    expect(decoder.constructor.name).toBe('DeferredDecoder');
    await decoder.return();
    for (const call of [
      () => multipartDecode(body(1), { boundary: 'b', maxParts: 0 }),
      () => multipartDecode(42 as never, { boundary: 'b' }),
      () => decodeBatch(body(1), { boundary: 'b', maxResponseBytes: NaN }),
      () => decodeByteRanges(new Response('x', { status: 200 })),
    ]) {
      expect(call).toThrow(DecodeError);
    }
  });

  it('answers several next() calls made at once in order, then is a decoder like any other', async () => {
    const { multipartDecode } = await fresh();
    const decoder = multipartDecode(body(3), { boundary: 'b' });
    const steps = await Promise.all([decoder.next(), decoder.next(), decoder.next(), decoder.next()]);
    const names = steps.map((step) => (step.done ? 'done' : step.value.name));
    expect(names).toEqual(['f0', 'f1', 'f2', 'done']);
    expect(multipartDecode(body(1), { boundary: 'b' }).constructor.name).toBe('Decoder');
  });

  it('lets the source go when return() comes before the first part', async () => {
    const { multipartDecode } = await fresh();
    const source = pendingSource();
    const decoder = multipartDecode(source, { boundary: 'b' });
    const pending = decoder.next();
    expect(await decoder.return()).toEqual({ done: true, value: undefined });
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(source.destroyed).toBe(true);
    expect(await decoder.next()).toEqual({ done: true, value: undefined });
  });

  it('reads batches and byte ranges as the loaded functions do', async () => {
    const { decodeBatch, decodeByteRanges } = await fresh();
    const inner = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nok';
    const batch = Buffer.from(`--b\r\nContent-Type: application/http\r\n\r\n${inner}\r\n--b--\r\n`);
    const answers = [];
    for await (const answer of decodeBatch(batch, { boundary: 'b' }))
      answers.push([answer.index, answer.response.status, await answer.response.text()]);
    expect(answers).toEqual([[0, 200, 'ok']]);

    const { decodeByteRanges: loaded } = await import('../../src/decoder/deferred.js');
    expect(loaded).toBe(decodeByteRanges);
    const single = new Response('abc', { status: 206, headers: { 'content-range': 'bytes 3-5/10' } });
    const ranges = [];
    for await (const range of decodeByteRanges(single)) ranges.push([range.start, range.end, await range.body.text()]);
    expect(ranges).toEqual([[3, 5, 'abc']]);
  });

  it('rejects each call with the load failure, lets the source go, and loads again on the next call', async () => {
    vi.resetModules();
    vi.doMock('../../src/decoder/loaded.js', () => {
      throw new Error('chunk missing');
    });
    const { multipartDecode, decodeByteRanges } = await import('../../src/decoder/deferred.js');
    const source = pendingSource();
    const decoder = multipartDecode(source, { boundary: 'b' });
    // vitest wraps the factory's error in one of its own.
    const failure: unknown = await decoder.next().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(await decoder.return().catch((error: unknown) => error)).toBe(failure);
    expect(source.destroyed).toBe(true);
    // Never iterated: its failure is no unhandled rejection (vitest fails the file on one).
    decodeByteRanges(new Response('abc', { status: 206, headers: { 'content-range': 'bytes 0-2/3' } }));

    vi.doUnmock('../../src/decoder/loaded.js');
    const parts = [];
    for await (const part of multipartDecode(body(2), { boundary: 'b' })) parts.push(await part.text());
    expect(parts).toEqual(['v0', 'v1']);
  });
});
