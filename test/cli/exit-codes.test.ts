// Every exit code the CLI can end with, each reached the way a user meets it: the built CLI against
// servers on 127.0.0.1 that misbehave on purpose. Each row ends in one line on stderr with the code
// curl gives for the same fate (test/cli/exit-codes.interop.test.ts runs curl against the same servers).
import { mkdirSync } from 'node:fs';
import type net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { startH2Server } from '../helpers/h2.js';
import { closedPort, rawServer } from '../helpers/raw-server.js';
import { json, startServer, tls } from '../helpers/servers.js';

const dir = tempDir();
const big = writeFile(dir, 'big.bin', bytes(8 * 1024 * 1024, 9));
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok';

/** A server answering every request with `text` (then closing), once the head has arrived. */
const answering = (text: string) => rawServer((socket) => socket.end(text));

interface Row {
  what: string;
  /** The arguments, after starting whatever the row needs. */
  args: () => Promise<string[]>;
  code: number;
  stderr: RegExp;
  stdout?: string;
}

const rows: Row[] = [
  {
    what: 'an answer',
    args: async () => ['-F', 'a=b', (await answering(OK)).url],
    code: 0,
    stderr: /^$/,
    stdout: 'ok',
  },
  {
    what: 'a scheme other than http and https',
    args: async () => ['-F', 'a=b', 'ftp://127.0.0.1/x'],
    code: 1,
    stderr: /^multipart-poster: ftp:\/\/ is not supported: only http:\/\/ and https:\/\/\n$/,
  },
  {
    what: 'a redirect to a scheme other than http and https (curl: "unsupported protocol")',
    args: async () => [
      '-L',
      '-F',
      'a=b',
      (await answering('HTTP/1.1 302 Found\r\nLocation: ftp://x/\r\nContent-Length: 0\r\n\r\n')).url,
    ],
    code: 1,
    stderr:
      /^multipart-poster: the server redirected \(302\) to "ftp:\/\/x\/": only http: and https: URLs can be uploaded to, not ftp:\n$/,
  },
  {
    what: 'an answer that is not HTTP/1.x',
    args: async () => ['-F', 'a=b', (await answering('hello there\r\n\r\n')).url],
    code: 1,
    stderr: /^multipart-poster: the answer of 127\.0\.0\.1:\d+ is not HTTP\/1\.x: .*\(HPE_INVALID_CONSTANT\)\n$/,
  },
  {
    what: 'an unknown option',
    args: async () => ['--bogus', '-F', 'a=b', 'http://127.0.0.1:9/'],
    code: 2,
    stderr: /^multipart-poster: Unknown option '--bogus'\nTry multipart-poster --help\n$/,
  },
  {
    what: 'a URL without a scheme',
    args: async () => ['-F', 'a=b', '127.0.0.1:9/upload'],
    code: 3,
    stderr:
      /^multipart-poster: "127\.0\.0\.1:9\/upload" is not a URL: it has no scheme \(http:\/\/ or https:\/\/\); did you mean http:\/\/127\.0\.0\.1:9\/upload\?\n$/,
  },
  {
    what: 'a URL that cannot be parsed',
    args: async () => ['-F', 'a=b', 'http://[bad/'],
    code: 3,
    stderr: /^multipart-poster: "http:\/\/\[bad\/" is not a valid URL\n$/,
  },
  {
    what: 'a proxy whose host does not resolve',
    args: async () => ['-x', 'http://no-such-proxy.invalid:3128', '-F', 'a=b', 'http://127.0.0.1:9/'],
    code: 5,
    stderr: /^multipart-poster: could not resolve proxy no-such-proxy\.invalid\n$/,
  },
  {
    what: 'a host that does not resolve',
    args: async () => ['-F', 'a=b', 'http://nonexistent.invalid/upload'],
    code: 6,
    stderr: /^multipart-poster: could not resolve host nonexistent\.invalid\n$/,
  },
  {
    what: 'nobody listening',
    args: async () => ['-F', 'a=b', `http://127.0.0.1:${await closedPort()}/`],
    code: 7,
    stderr: /^multipart-poster: could not connect to 127\.0\.0\.1:\d+: ECONNREFUSED\n$/,
  },
  {
    what: 'a proxy nobody listens on, named as the proxy',
    args: async () => ['-x', `127.0.0.1:${await closedPort()}`, '-F', 'a=b', (await answering(OK)).url],
    code: 7,
    stderr: /^multipart-poster: could not connect to proxy 127\.0\.0\.1:\d+: ECONNREFUSED\n$/,
  },
  {
    what: 'a header line without a colon',
    args: async () => ['-F', 'a=b', (await answering('HTTP/1.1 200 OK\r\nBad Header\r\n\r\n')).url],
    code: 8,
    stderr: /^multipart-poster: the answer of 127\.0\.0\.1:\d+ is not valid HTTP: .*\(HPE_INVALID_HEADER_TOKEN\)\n$/,
  },
  {
    what: 'an answer head that never ends (headers past 16 KiB)',
    args: async () => [
      '-F',
      'a=b',
      (await answering(`HTTP/1.1 200 OK\r\n${'X-Filler: 0123456789abcdef\r\n'.repeat(4096)}\r\n`)).url,
    ],
    code: 8,
    stderr: /^multipart-poster: the answer of 127\.0\.0\.1:\d+ is not valid HTTP: .*\(HPE_HEADER_OVERFLOW\)\n$/,
  },
  {
    what: 'an answer cut before its Content-Length',
    args: async () => ['-F', 'a=b', (await answering('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789')).url],
    code: 18,
    stderr: /^multipart-poster: the answer was cut short: 10 of 100 bytes of the answer received\n$/,
    stdout: '0123456789',
  },
  {
    what: 'a chunked answer cut before its last chunk',
    args: async () => [
      '-F',
      'a=b',
      (await answering('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n')).url,
    ],
    code: 18,
    stderr: /^multipart-poster: the answer was cut short: 10 bytes of the answer received\n$/,
    stdout: '0123456789',
  },
  {
    what: '--fail and a 404: no body written',
    args: async () => [
      '-f',
      '-F',
      'a=b',
      (await answering('HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found')).url,
    ],
    code: 22,
    stderr: /^multipart-poster: the server answered 404 Not Found\n$/,
    stdout: '',
  },
  {
    what: '--fail-with-body and a 404: the body written',
    args: async () => [
      '--fail-with-body',
      '-F',
      'a=b',
      (await answering('HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found')).url,
    ],
    code: 22,
    stderr: /^multipart-poster: the server answered 404 Not Found\n$/,
    stdout: 'not found',
  },
  {
    what: '-o into a folder that does not exist',
    args: async () => ['-o', join(dir, 'missing', 'out.txt'), '-F', 'a=b', (await answering(OK)).url],
    code: 23,
    stderr: /^multipart-poster: cannot write .*missing\/out\.txt: ENOENT/,
  },
  {
    what: '--dry-run -o a folder',
    args: async () => {
      mkdirSync(join(dir, 'a-folder'), { recursive: true });
      return ['--dry-run', '-o', join(dir, 'a-folder'), '-F', 'a=b'];
    },
    code: 23,
    stderr: /\nmultipart-poster: cannot write .*a-folder: EISDIR/,
  },
  {
    what: 'a missing file',
    args: async () => ['-F', `f=@${join(dir, 'missing.bin')}`, 'http://127.0.0.1:9/'],
    code: 26,
    stderr: /^multipart-poster: field "f": cannot read file ".*missing\.bin": ENOENT/,
  },
  {
    what: 'a missing --cacert',
    args: async () => ['--cacert', join(dir, 'missing.crt'), '-F', 'a=b', (await answering(OK)).url],
    code: 77,
    stderr: /^multipart-poster: cannot read --cacert ".*missing\.crt": ENOENT/,
  },
  {
    what: '--timeout before the answer',
    args: async () => ['--timeout', '0.3', '-F', 'a=b', (await rawServer(() => {})).url],
    code: 28,
    stderr: /^multipart-poster: the upload took longer than 300 ms\n$/,
  },
  {
    what: '--timeout during the answer',
    args: async () => [
      '--timeout',
      '0.5',
      '-F',
      'a=b',
      (await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789'))).url,
    ],
    code: 28,
    stderr: /^multipart-poster: the upload took longer than 500 ms; 10 of 100 bytes of the answer received\n$/,
    stdout: '0123456789',
  },
  {
    what: 'an answer that never ends, bounded by --timeout',
    args: async () => {
      const endless = await rawServer((socket) => {
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
        const block = `10000\r\n${'x'.repeat(0x10000)}\r\n`;
        // Bounded: it stops when the client goes (the socket closes) or after 1 GiB.
        let sent = 0;
        const pump = () => {
          while (!socket.destroyed && sent < 1024 ** 3) {
            sent += 0x10000;
            if (!socket.write(block)) return void socket.once('drain', pump);
          }
        };
        pump();
      });
      return ['--timeout', '1', '-o', '/dev/null', '-F', 'a=b', endless.url];
    },
    code: 28,
    stderr: /^multipart-poster: the upload took longer than 1000 ms; \d+ bytes of the answer received\n$/,
  },
  {
    what: 'https to a plain http server',
    args: async () => [
      '-F',
      'a=b',
      (await rawServer((socket) => socket.write(OK), { atFirstBytes: true })).url.replace('http:', 'https:'),
    ],
    code: 35,
    stderr:
      /^multipart-poster: the TLS handshake with 127\.0\.0\.1:(\d+) failed: (wrong version number|internal error) \(does the server speak TLS there\? If not, the URL is http:\/\/127\.0\.0\.1:\1\)\n$/,
  },
  {
    // A plain-HTTP server that closes with the ClientHello unread resets the connection; the reset
    // may come before OpenSSL reads its answer as a bad record: ECONNRESET, yet TLS never began.
    what: 'https to a server that resets the connection during the handshake',
    args: async () => [
      '-F',
      'a=b',
      (await rawServer((socket) => socket.resetAndDestroy(), { atFirstBytes: true })).url.replace('http:', 'https:'),
    ],
    code: 35,
    stderr:
      /^multipart-poster: the TLS handshake with 127\.0\.0\.1:(\d+) failed: read ECONNRESET \(does the server speak TLS there\? If not, the URL is http:\/\/127\.0\.0\.1:\1\)\n$/,
  },
  {
    what: 'more redirects than --max-redirs',
    args: async () => {
      const loop = await answering('HTTP/1.1 307 Temporary Redirect\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n');
      return ['-L', '--max-redirs', '2', '-F', 'a=b', loop.url];
    },
    code: 47,
    stderr: /^multipart-poster: more than 2 redirects, the last to \/again\n$/,
  },
  {
    what: 'a redirect with -L --max-redirs 0 (curl: "Maximum (0) redirects followed"), its head still written by -i',
    args: async () => {
      const redirect = await answering(
        'HTTP/1.1 307 Temporary Redirect\r\nLocation: /again\r\nContent-Length: 4\r\n\r\nbody',
      );
      return ['-i', '-L', '--max-redirs', '0', '-F', 'a=b', redirect.url];
    },
    code: 47,
    stderr: /^multipart-poster: more than 0 redirects: the server redirected \(307\) to \/again\n$/,
    stdout: 'HTTP/1.1 307 Temporary Redirect\r\ncontent-length: 4\r\nlocation: /again\r\n\r\n',
  },
  {
    what: 'a redirect without -L is the answer',
    args: async () => {
      const redirect = await answering(
        'HTTP/1.1 307 Temporary Redirect\r\nLocation: /again\r\nContent-Length: 4\r\n\r\nbody',
      );
      return ['--max-redirs', '0', '-F', 'a=b', redirect.url];
    },
    code: 0,
    stderr: /^$/,
    stdout: 'body',
  },
  {
    what: 'a server that closes without answering',
    args: async () => ['-F', 'a=b', (await rawServer((socket) => socket.end())).url],
    code: 52,
    stderr: /^multipart-poster: empty reply: 127\.0\.0\.1:\d+ closed the connection without answering\n$/,
  },
  {
    what: 'a reset once the whole request has arrived',
    args: async () => ['-F', 'a=b', (await rawServer((socket) => socket.resetAndDestroy(), { afterBody: true })).url],
    code: 56,
    stderr: /^multipart-poster: the connection to 127\.0\.0\.1:\d+ was reset while receiving: ECONNRESET\n$/,
  },
  {
    what: 'a 101 Switching Protocols nobody asked for',
    args: async () => [
      '-F',
      'a=b',
      (await rawServer((socket) => socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n'))).url,
    ],
    code: 56,
    stderr: /^multipart-poster: the server answered 101\b[^\n]*\n$/,
  },
  {
    what: 'a proxy that refuses the CONNECT tunnel',
    args: async () => {
      const proxy = await answering('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return ['-x', `127.0.0.1:${proxy.port}`, '-F', 'a=b', 'https://127.0.0.1:9/upload'];
    },
    code: 56,
    stderr: /^multipart-poster: the proxy 127\.0\.0\.1:\d+ refused the tunnel to 127\.0\.0\.1:9: 403 Forbidden\n$/,
  },
  ...['--http2', '--http1.1'].map((flag) => ({
    what: `a proxy that refuses the CONNECT tunnel, with ${flag}`,
    args: async () => {
      const proxy = await answering('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return [flag, '-x', `127.0.0.1:${proxy.port}`, '-F', 'a=b', 'https://127.0.0.1:9/upload'];
    },
    code: 56,
    stderr: /^multipart-poster: the proxy 127\.0\.0\.1:\d+ refused the tunnel to 127\.0\.0\.1:9: 403 Forbidden\n$/,
  })),
  ...(
    [
      [2, 'INTERNAL_ERROR'],
      [8, 'CANCEL'],
    ] as const
  ).map(([code, name]) => ({
    what: `an HTTP/2 stream the server resets with ${name}`,
    args: async () => {
      const server = await startH2Server((stream) => setTimeout(() => stream.close(code), 10));
      return ['--http2-prior-knowledge', '-F', 'a=b', server.url];
    },
    code: 92,
    stderr: new RegExp(
      `^multipart-poster: the HTTP/2 exchange with 127\\.0\\.0\\.1:\\d+ failed: stream closed with ${name}\\n$`,
    ),
  })),
  {
    what: 'an HTTP/2 stream the server refuses unprocessed (REFUSED_STREAM, retried once)',
    args: async () => {
      const server = await startH2Server((stream) => stream.close(7));
      return ['--http2-prior-knowledge', '--retry', '0', '-F', 'a=b', server.url];
    },
    code: 56,
    stderr: /^multipart-poster: .*REFUSED_STREAM.*\n$/,
  },
  {
    what: 'an untrusted certificate',
    args: async () => {
      const secure = await startServer((req, res) => (req.resume(), req.on('end', () => json(res, 200, {}))), {
        https: { cert: tls.cert, key: tls.key },
      });
      return ['-F', 'a=b', secure.url];
    },
    code: 60,
    stderr:
      /^multipart-poster: the certificate of 127\.0\.0\.1:\d+ is not trusted: .* \(use --cacert or --insecure\)\n$/,
  },
];

describe('every exit code, as curl numbers them', () => {
  it.each(rows.map((row) => [row.what, row] as const))('%s', async (_what, row) => {
    const result = await runCli(['--no-progress', ...(await row.args())], { timeout: 20_000 });
    expect(result.stderr).toMatch(row.stderr);
    expect(result.code).toBe(row.code);
    if (row.stdout !== undefined) expect(result.stdout).toBe(row.stdout);
  });

  it('a reset while the body is still being sent, no answer: 55, 56 or 52, each in its own words', async () => {
    // Which side of the socket meets the reset first is the kernel's choice, for curl as for Node (55
    // writing, 56 reading); when upload() holds a write error back to read an answer the server may
    // have sent first, the connection is found closed without one (52). Never success, never another code.
    const server = await rawServer((socket: net.Socket) => socket.resetAndDestroy());
    const result = await runCli(['--no-expect-continue', '-F', `f=@${big}`, server.url]);
    const said = {
      55: /^multipart-poster: the connection to 127\.0\.0\.1:\d+ was reset while sending: ECONNRESET\n$/,
      56: /^multipart-poster: the connection to 127\.0\.0\.1:\d+ was reset while receiving: ECONNRESET\n$/,
      52: /^multipart-poster: empty reply: 127\.0\.0\.1:\d+ closed the connection without answering\n$/,
    }[result.code as 55 | 56 | 52];
    expect(said, `exit ${result.code}: ${result.stderr}`).toBeDefined();
    expect(result.stderr).toMatch(said!);
  });
});
