// The built CLI against raw TCP servers that answer what no HTTP library should take
// for success: a `101 Switching Protocols` the request never asked for. Whatever the
// server does, the CLI must end within its --timeout, with one line on stderr and a
// non-zero exit, and with --fail never exit 0.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { rawServer, type RawServer } from '../helpers/raw-server.js';

const dir = tempDir();
const big = writeFile(dir, 'big.bin', bytes(8 * 1024 * 1024, 7));
const TIMEOUT_S = 3;
/** Time for node to start and stop around the --timeout. */
const SLACK_MS = 7_000;

/** When the server answers: on the request's headers, or once the body (Content-Length of it) has arrived. */
type When = 'headers' | 'body';

/** A server on 127.0.0.1 that answers every request with `answer`, written raw, at `when`; `then` decides what follows. */
function answering(answer: string, when: When, then: 'keep-open' | 'end' | 'reset' = 'keep-open'): Promise<RawServer> {
  return rawServer(
    (socket) => {
      socket.write(answer);
      if (then === 'end') socket.end();
      if (then === 'reset') socket.resetAndDestroy();
    },
    { afterBody: when === 'body' },
  );
}

const SWITCHING = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';

/** Runs the CLI with --timeout, and checks what must hold whatever the library does: bounded, one line, not 0. */
async function expectFailure(args: string[]) {
  const started = Date.now();
  const result = await runCli(['--timeout', String(TIMEOUT_S), ...args], {
    timeout: TIMEOUT_S * 1000 + SLACK_MS + 5_000,
  });
  const elapsed = Date.now() - started;
  expect(result.code, `killed, or exited 0; stderr: ${result.stderr}`).not.toBe(null);
  expect(result.code).not.toBe(0);
  expect(elapsed).toBeLessThan(TIMEOUT_S * 1000 + SLACK_MS);
  expect(result.stderr).toMatch(/^multipart-poster: [^\n]+\n$/); // one line, no usage hint
  return result;
}

describe('a server answering 101 Switching Protocols to an upload', () => {
  const cases: Array<[string, When, 'keep-open' | 'end' | 'reset', string[]]> = [
    ['on the request headers, then keeps the connection open', 'headers', 'keep-open', ['-F', 'a=b']],
    ['on the request headers, then closes', 'headers', 'end', ['-F', 'a=b']],
    ['on the request headers, then resets', 'headers', 'reset', ['-F', 'a=b']],
    ['after the whole body', 'body', 'keep-open', ['-F', 'a=b']],
    ['after the whole body, then closes', 'body', 'end', ['-F', 'a=b']],
    ['instead of 100 Continue, to an 8 MiB file', 'headers', 'keep-open', ['--expect-continue', '-F', `f=@${big}`]],
    ['mid-way through an 8 MiB file', 'headers', 'keep-open', ['--no-expect-continue', '-F', `f=@${big}`]],
    ['to a raw --data-binary PUT', 'headers', 'keep-open', ['-X', 'PUT', '--data-binary', `@${big}`]],
    ['with -L', 'body', 'keep-open', ['-L', '-F', 'a=b']],
    ['with -i -o', 'body', 'keep-open', ['-i', '-o', `${dir}/out.txt`, '-F', 'a=b']],
  ];

  it.each(cases)('%s: exits non-zero within --timeout, in one line', async (_what, when, then, args) => {
    const server = await answering(SWITCHING, when, then);
    await expectFailure([...args, server.url]);
    expect(server.requests()).toBe(1);
  });

  it.each(cases)('%s, with --fail: never exits 0', async (_what, when, then, args) => {
    const server = await answering(SWITCHING, when, then);
    const result = await expectFailure(['--fail', ...args, server.url]);
    expect(result.code).not.toBe(22); // not an HTTP error status: the exchange itself failed
  });

  // Depends on upload() reporting the 101 as UploadError ERR_UNEXPECTED_RESPONSE (the library's fix).
  it('exits 56 (a failure receiving), naming the 101', async () => {
    for (const when of ['headers', 'body'] as const) {
      const server = await answering(SWITCHING, when);
      const result = await expectFailure(['-F', 'a=b', server.url]);
      expect(result.code, result.stderr).toBe(56);
      expect(result.stderr).toMatch(/101/);
    }
  });
});

describe('informational answers before the final one are not failures', () => {
  it.each([
    ['103 Early Hints', 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n'],
    ['102 Processing', 'HTTP/1.1 102 Processing\r\n\r\n'],
  ])('%s then 200: exit 0 with the 200', async (_what, informational) => {
    const server = await answering(
      `${informational}HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok`,
      'body',
      'end',
    );
    const result = await runCli(['--timeout', String(TIMEOUT_S), '--fail', '-F', 'a=b', server.url]);
    expect(result).toEqual({ code: 0, stdout: 'ok', stderr: '' });
  });
});

describe('what a server says reaches the terminal escaped, and an odd status line is still an answer', () => {
  /** Raw bytes a terminal would act on: C0 but tab and line feed, DEL, and C1 (as UTF-8 or single bytes). */
  const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/;
  // Each answer ends its connection: a redirect's request comes on a new one.
  const answer = (head: string) => answering(`HTTP/1.1 ${head}\r\ncontent-length: 0\r\n\r\n`, 'body', 'end');

  it.each<[string, string, string[], number, RegExp]>([
    ['ESC in the status text, -f', '404 Not\x1b[31mFound', ['-f'], 22, /404/],
    ['ESC in the status text', '404 Not\x1b[31mFound', [], 0, /^$/],
    ['C1 (CSI, as UTF-8) in the status text, -f', '404 Not\xc2\x9b31mFound', ['-f'], 22, /\\x9b31mFound/],
    [
      'C1 in a Location, --max-redirs 0',
      '302 Found\r\nlocation: /ok\xc2\x9b31mRED',
      ['-L', '--max-redirs', '0'],
      47,
      /\\x9b31mRED/,
    ],
    ['C1 in a Location that loops', '302 Found\r\nlocation: ?\x9b2J', ['-L'], 47, /the last to .*\\x9b2J/],
    ['an empty Location: the answer itself, as curl', '302 Found\r\nlocation:', ['-L'], 0, /^$/],
    ['an empty Location, --max-redirs 0', '302 Found\r\nlocation:', ['-L', '--max-redirs', '0'], 0, /^$/],
    [
      "a Location's password, --max-redirs 0",
      '302 Found\r\nlocation: http://u:hunter2@127.0.0.1:1/x',
      ['-L', '--max-redirs', '0'],
      47,
      /to http:\/\/\*\*\*@127\.0\.0\.1:1\/x$/m,
    ],
  ])('%s', async (_label, head, args, code, stderr) => {
    const server = await answer(head);
    const result = await runCli(['--timeout', '5', ...args, '-F', 'a=b', server.url]);
    expect(result.code, result.stderr).toBe(code);
    expect(result.stderr).toMatch(stderr);
    expect(result.stderr).not.toMatch(RAW_CONTROL);
  });

  it('an answer body quoted by a piece upload (--tus) is escaped', async () => {
    const server = await answering(
      'HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n\x1b[31mX\x9b2J\r\n\x07',
      'body',
      'end',
    );
    const result = await runCli(['--timeout', '5', '-T', big, '--tus', server.url]);
    expect(result.code, result.stderr).not.toBe(0);
    expect(result.stderr).toContain('(\\x1b[31mX\\x9b2J)');
    expect(result.stderr).not.toMatch(RAW_CONTROL);
  });
});
