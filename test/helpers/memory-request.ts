import http, { type ClientRequest } from 'node:http';
import { Duplex, PassThrough, Writable } from 'node:stream';
import { expect } from 'vitest';
import type { EncodedBody } from '../../src/index.js';
import { writeBody } from '../../src/http/body-writer.js';
import { RequestState } from '../../src/http/request-state.js';

// A request over an in-memory connection, for the body writer's tests: what it writes, as it arrives.

/**
 * A request on an in-memory connection: what the request writes goes to a Writable that takes
 * `highWaterMark` bytes and calls back on the next turn, holding the writer back as a slow socket
 * would (and as the Node 20 stall class does when a first chunk exceeds it). It keeps each chunk as
 * given, uncopied, as a connection in JS may: a block read into again after its write called back
 * would show as changed bytes.
 */
export function requestOnMemory(highWaterMark: number): {
  req: ClientRequest;
  written: () => Buffer;
  writes: () => number[];
} {
  const received: Buffer[] = [];
  const toPeer = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      received.push(chunk);
      setImmediate(callback);
    },
  });
  const connection = Duplex.from({ readable: new PassThrough(), writable: toPeer });
  const req = http.request({ host: '127.0.0.1', method: 'PUT', createConnection: () => connection as never });
  req.on('error', () => {});
  return { req, written: () => Buffer.concat(received), writes: () => received.map((chunk) => chunk.length) };
}

/** The body after the request head (de-chunked if needed), or undefined while it is not all there. */
export function completeBody(raw: Buffer): Buffer | undefined {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const head = raw.subarray(0, headEnd).toString('latin1');
  const body = raw.subarray(headEnd + 4);
  if (!/transfer-encoding: chunked/i.test(head)) {
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    return body.length >= length ? body.subarray(0, length) : undefined;
  }
  const out: Buffer[] = [];
  for (let at = 0; ;) {
    const eol = body.indexOf('\r\n', at);
    if (eol === -1) return undefined;
    const length = parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!(length >= 0)) throw new Error(`not a chunked body at ${at}: ${JSON.stringify(head)}`);
    if (length === 0) return Buffer.concat(out);
    if (body.length < eol + 2 + length + 2) return undefined;
    out.push(body.subarray(eol + 2, eol + 2 + length));
    at = eol + 2 + length + 2;
  }
}

/** `body` through writeBody to a request on memory: the body as it arrived. */
export async function feed(body: EncodedBody, highWaterMark: number, progress: boolean): Promise<Buffer> {
  return (await feedWrites(body, highWaterMark, progress)).received;
}

/** As `feed`, also the size of every write the connection saw (the request head's included). */
export async function feedWrites(
  body: EncodedBody,
  highWaterMark: number,
  progress: boolean,
): Promise<{ received: Buffer; writes: number[] }> {
  const { req, written, writes } = requestOnMemory(highWaterMark);
  for (const [name, value] of Object.entries(body.headers)) req.setHeader(name, value);
  const state = new RequestState();
  const told: number[] = [];
  const sent = await writeBody(
    req,
    body,
    {
      expectContinue: false,
      expectTimeout: 0,
      onUploadProgress: progress ? (loaded) => told.push(loaded) : undefined,
      onBodySent: undefined,
    },
    state,
  );
  expect(sent).toBe(true);
  let received: Buffer | undefined;
  for (let turn = 0; turn < 10_000 && (received = completeBody(written())) === undefined; turn++) {
    await new Promise(setImmediate);
  }
  req.destroy();
  if (progress && body.contentLength) expect(told.at(-1)).toBe(body.contentLength);
  if (received === undefined) throw new Error(`the body did not arrive whole: ${written().length} bytes`);
  return { received, writes: writes() };
}
