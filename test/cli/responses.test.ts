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
