import { readdirSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { MultipartParam, upload, UploadError } from '../../src/index.js';
import { bytes, openFilesUnder, tempDir, writeFile } from '../helpers/files.js';
import { rawServer } from '../helpers/raw-server.js';

/**
 * Hostile servers, by the phase of the exchange they strike in: before the request head is read
 * (on connect), once the head is in, half way through the body, once the whole request is in.
 * Every upload settles within its timeout with a Response (whose body then reads or fails typed)
 * or a typed UploadError, and leaves no descriptor and no file open. Add a row with one line.
 */
type Phase = 'connect' | 'head' | 'mid-body' | 'request-end';
type Act = (socket: net.Socket) => void;

const answer = (status: number, reason: string, body = '', extra = '') =>
  `HTTP/1.1 ${status} ${reason}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const say =
  (text: string): Act =>
  (socket) =>
    void socket.write(text);
const sayThen =
  (text: string, then: 'close' | 'reset'): Act =>
  (socket) =>
    socket.write(text, () => (then === 'close' ? socket.end() : socket.resetAndDestroy()));

/** What the server does, and what the caller gets: a status (the body read whole), or an error code. */
const acts: Array<[string, Act, string]> = [
  ['closes', (s) => void s.end(), 'ERR_REQUEST_FAILED'],
  ['resets', (s) => void s.resetAndDestroy(), 'ERR_REQUEST_FAILED'],
  ['says nothing', () => {}, 'ERR_TIMEOUT'],
  ['sends garbage', say('lol what\r\n\r\n'), 'ERR_REQUEST_FAILED'],
  [
    'answers 101 with Upgrade',
    say('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n'),
    'ERR_UNEXPECTED_RESPONSE',
  ],
  ['answers a bare 101', say('HTTP/1.1 101 Switching Protocols\r\n\r\n'), 'ERR_UNEXPECTED_RESPONSE'],
  ['answers 103, then nothing', say('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n'), 'ERR_TIMEOUT'],
  [
    'answers 100 twice, then 200',
    say(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n${answer(200, 'OK', 'ok')}`),
    '200',
  ],
  ['answers 102, then 200', say(`HTTP/1.1 102 Processing\r\n\r\n${answer(200, 'OK', 'ok')}`), '200'],
  ['answers 200', say(answer(200, 'OK', 'ok')), '200'],
  ['answers 200, then closes', sayThen(answer(200, 'OK', 'ok'), 'close'), '200'],
  ['answers 200, then resets', sayThen(answer(200, 'OK', 'ok'), 'reset'), '200'],
  ['answers 204', say('HTTP/1.1 204 No Content\r\n\r\n'), '204'],
  ['answers 301 without Location', say(answer(301, 'Moved')), '301'],
  ['answers 302 with an empty Location', say(answer(302, 'Found', '', 'location:\r\n')), '302'],
  ['answers 404 with ESC in its status text', say(answer(404, 'Not\x1b[31mFound', 'no')), '404'],
  [
    'answers 307 to itself, every time',
    say(answer(307, 'Again', '', 'location: /again\r\nconnection: close\r\n')),
    'ERR_TOO_MANY_REDIRECTS',
  ],
  ['answers 307 to ftp:', say(answer(307, 'Away', '', 'location: ftp://127.0.0.1/\r\n')), 'ERR_INVALID_URL'],
  ['answers 400', say(answer(400, 'Bad Request', 'no')), '400'],
  ['answers 413, then closes', sayThen(answer(413, 'Too Large', 'too big'), 'close'), '413'],
  ['answers 413, then resets', sayThen(answer(413, 'Too Large', 'too big'), 'reset'), '413'],
  ['answers 500', say(answer(500, 'Oops', 'err')), '500'],
  ['answers 503 with Retry-After', sayThen(answer(503, 'Busy', '', 'retry-after: 0\r\n'), 'close'), '503'],
  ['answers 999', say(answer(999, 'Odd')), 'ERR_UNEXPECTED_RESPONSE'],
  // the answer's head arrives, then its body fails: the Response resolves, reading it fails typed
  [
    'answers a head, then closes',
    sayThen('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n', 'close'),
    'body ERR_REQUEST_FAILED',
  ],
  [
    'answers a head, then resets',
    sayThen('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n', 'reset'),
    'body ERR_REQUEST_FAILED',
  ],
  [
    'answers half a body, then closes',
    sayThen('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n12345', 'close'),
    'body ERR_REQUEST_FAILED',
  ],
  [
    'answers half a body, then resets',
    sayThen('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n12345', 'reset'),
    'body ERR_REQUEST_FAILED',
  ],
  ['answers half a body, then stalls', say('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n12345'), 'body ERR_TIMEOUT'],
  ['closes half way through its headers', sayThen('HTTP/1.1 200 OK\r\ncontent-', 'close'), 'ERR_REQUEST_FAILED'],
  [
    'answers, then trickles forever',
    (s) => {
      s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
      const timer = setInterval(() => s.write('1\r\nx\r\n'), 20);
      s.on('close', () => clearInterval(timer));
    },
    'body ERR_TIMEOUT',
  ],
];

const dir = tempDir();
const MiB = 1024 * 1024;
const filePath = writeFile(dir, 'payload.bin', bytes(3 * MiB, 4));
const openDescriptors = () => readdirSync('/proc/self/fd').length;
/** Rows that end in ERR_TIMEOUT get a short timeout; the others a long one they never need (a hang shows as ERR_TIMEOUT). */
const timeoutFor = (expected: string) => (expected.endsWith('ERR_TIMEOUT') ? 300 : 10_000);

/** A raw server that strikes at `phase` with `act`, once per connection; `close()` ends every connection too. */
async function hostileServer(phase: Phase, act: Act): Promise<{ url: string; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (phase === 'connect') return act(socket);
    let seen = 0;
    let struck = false;
    let needed = Infinity;
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (needed === Infinity) needed = requestLength(chunk);
      const due = phase === 'head' || (phase === 'mid-body' ? seen >= 256 * 1024 : seen >= needed);
      if (due && !struck) {
        struck = true;
        act(socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`,
    close: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** The whole request's length, from the head in the first chunk (the head always fits in it here). */
function requestLength(first: Buffer): number {
  const head = first.toString('latin1', 0, first.indexOf('\r\n\r\n') + 4);
  const length = /content-length: (\d+)/i.exec(head)?.[1];
  return length === undefined ? Infinity : head.length + Number(length);
}

async function outcome(url: string, large: boolean, timeout: number): Promise<string> {
  const form: Record<string, string | MultipartParam> = large
    ? { file: await MultipartParam.fromFile('file', filePath) }
    : { a: 'x' };
  try {
    const response = await upload(url, form, {
      timeout,
      maxRedirects: 2,
      expectTimeout: 50, // a raw server never says 100 Continue: the body goes after 50 ms
    });
    try {
      await response.text();
    } catch (error) {
      return error instanceof UploadError ? `body ${error.code}` : `body untyped: ${String(error)}`;
    }
    return String(response.status);
  } catch (error) {
    return error instanceof UploadError ? error.code : `untyped: ${String(error)}`;
  }
}

const phases: Phase[] = ['connect', 'head', 'mid-body', 'request-end'];

describe('hostile servers at every phase: each upload settles, typed, and leaves nothing open', () => {
  for (const phase of phases) {
    for (const [label, act, expected] of acts) {
      for (const size of ['small', 'large'] as const) {
        if (phase === 'mid-body' && size === 'small') continue; // a small body has no middle
        it(`${phase}: ${label} (${size} body)`, async () => {
          const before = openDescriptors();
          const server = await hostileServer(phase, act);
          try {
            const result = await outcome(server.url, size === 'large', timeoutFor(expected));
            // An answer written and reset at once, before the request was read, may be dropped by the
            // kernel with the reset (as for curl): then the connection failed.
            const allowed =
              phase === 'connect' && label.endsWith('then resets') ? [expected, 'ERR_REQUEST_FAILED'] : [expected];
            expect(allowed).toContain(result);
          } finally {
            server.close();
          }
          expect(openFilesUnder(dir)).toEqual([]);
          for (let i = 0; i < 100 && openDescriptors() > before; i++) await new Promise((r) => setTimeout(r, 10));
          expect(openDescriptors()).toBeLessThanOrEqual(before);
        });
      }
    }
  }
});

describe("the status line's text", () => {
  it('of an unasked-for 101 is quoted escaped in the error', async () => {
    const server = await rawServer((socket) =>
      socket.write('HTTP/1.1 101 Sw\x1b[31mX\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n'),
    );
    const error = (await upload(server.url, { a: 'b' }).catch((e: unknown) => e)) as UploadError;
    expect(error.code).toBe('ERR_UNEXPECTED_RESPONSE');
    expect(error.message).toContain('answered 101 Sw\\x1b[31mX, switching protocols');
  });

  it.each<[string, string]>([
    ['Not\x1b[31mFound', ''],
    ['Not\x00Found', ''],
    ['Not Found', 'Not Found'],
    ['Caf\xe9 \x9b obs-text', 'Caf\xe9 \x9b obs-text'],
  ])("%j is the Response's statusText %j: one it cannot hold is dropped, not the answer", async (reason, expected) => {
    const server = await rawServer((socket) => {
      socket.end(Buffer.from(`HTTP/1.1 404 ${reason}\r\ncontent-length: 2\r\n\r\nno`, 'latin1'));
    });
    const response = await upload(server.url, { a: 'b' });
    expect(response.status).toBe(404);
    expect(response.statusText).toBe(expected);
    expect(await response.text()).toBe('no');
  });
});
