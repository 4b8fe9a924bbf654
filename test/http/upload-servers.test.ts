import { readdirSync } from 'node:fs';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { MultipartParam, upload, UploadError } from '../../src/index.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';

/**
 * Hostile servers: each row is what the server does once it has the request's
 * first bytes. Every upload must settle within its timeout, with a Response or a
 * typed error, and leave no descriptor behind. Add a case with one line.
 */
type Act = (socket: net.Socket) => void;
const say =
  (text: string): Act =>
  (socket) =>
    socket.write(text);
const sayThenClose =
  (text: string): Act =>
  (socket) =>
    socket.end(text);

const rows: Array<[string, Act, 'response' | string]> = [
  [
    '101 with Upgrade',
    say('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
    'ERR_UNEXPECTED_RESPONSE',
  ],
  ['bare 101', say('HTTP/1.1 101 Switching Protocols\r\n\r\n'), 'ERR_UNEXPECTED_RESPONSE'],
  ['103 then nothing', say('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n'), 'ERR_TIMEOUT'],
  ['102 then 200', say('HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'), 'response'],
  [
    '100 twice then 200',
    say('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'),
    'response',
  ],
  ['204', say('HTTP/1.1 204 No Content\r\n\r\n'), 'response'],
  ['302 without Location', say('HTTP/1.1 302 Found\r\ncontent-length: 0\r\n\r\n'), 'response'],
  [
    '307 to a malformed Location',
    say('HTTP/1.1 307 Temporary Redirect\r\nLocation: http://[::1\r\ncontent-length: 0\r\n\r\n'),
    'ERR_INVALID_URL',
  ],
  ['status 999', say('HTTP/1.1 999 Odd\r\ncontent-length: 0\r\n\r\n'), 'ERR_UNEXPECTED_RESPONSE'],
  ['garbage', say('lol what\r\n\r\n'), 'ERR_REQUEST_FAILED'],
  ['close before headers', (s) => s.end(), 'ERR_REQUEST_FAILED'],
  ['reset before headers', (s) => s.resetAndDestroy(), 'ERR_REQUEST_FAILED'],
  ['close after half the headers', sayThenClose('HTTP/1.1 200 OK\r\ncontent-'), 'ERR_REQUEST_FAILED'],
  ['silence', () => {}, 'ERR_TIMEOUT'],
  [
    'headers then an endless trickle',
    (s) => {
      s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
      const timer = setInterval(() => s.write('1\r\nx\r\n'), 50);
      s.on('close', () => clearInterval(timer));
    },
    'ERR_TIMEOUT',
  ],
];

const dir = tempDir();
const filePath = writeFile(dir, 'payload.bin', bytes(3 * 1024 * 1024, 4));
const openDescriptors = () => readdirSync('/proc/self/fd').length;

async function hostileServer(act: Act): Promise<string> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => act(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
}

describe('hostile servers: every upload settles within its timeout', () => {
  for (const [label, act, expected] of rows) {
    for (const size of ['small', 'large'] as const) {
      it(`${label} (${size} body)`, async () => {
        const url = await hostileServer(act);
        const form: Record<string, string | MultipartParam> =
          size === 'small' ? { a: 'x' } : { file: await MultipartParam.fromFile('file', filePath) };
        const started = Date.now();
        const outcome = await upload(url, form, { timeout: 1500 })
          .then(async (response) => {
            await response.text(); // a timeout while the body streams arrives here
            return 'response';
          })
          .catch((error: unknown) => (error instanceof UploadError ? error.code : `untyped: ${String(error)}`));
        expect(outcome).toBe(expected);
        expect(Date.now() - started).toBeLessThan(5000);
      });
    }
  }

  it('leaves no descriptor open after all of them', async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = openDescriptors();
    const url = await hostileServer(say('HTTP/1.1 101 Switching Protocols\r\n\r\n'));
    const form = { file: await MultipartParam.fromFile('file', filePath) };
    for (let i = 0; i < 20; i++) await upload(url, form, { timeout: 1000 }).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(openDescriptors()).toBeLessThanOrEqual(before + 1); // the listening socket
  });
});

describe('hostile callbacks', () => {
  it('an onUploadProgress that throws fails the upload with ERR_CALLBACK_FAILED; the process lives', async () => {
    const url = await hostileServer((s) => s.on('data', () => {}));
    const form = { file: await MultipartParam.fromFile('file', filePath) };
    const error = await upload(url, form, {
      timeout: 5000,
      expectContinue: false,
      onUploadProgress: () => {
        throw new Error('boom');
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect((error as UploadError).code).toBe('ERR_CALLBACK_FAILED');
    expect(((error as UploadError).cause as Error).message).toBe('boom');
  });
});
