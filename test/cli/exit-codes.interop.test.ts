// The CLI and curl against the same misbehaving servers on 127.0.0.1: the same exit code for the
// same fate (and, with --fail, the same nothing on stdout). Needs curl.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { runCurl } from '../helpers/curl.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { startH2Server } from '../helpers/h2.js';
import { closedPort, rawServer } from '../helpers/raw-server.js';
import { json, startServer, tls } from '../helpers/servers.js';

const dir = tempDir();
const caPath = writeFile(dir, 'ca.crt', tls.ca);
const answering = (text: string) => rawServer((socket) => socket.end(text));
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok';
const NOT_FOUND = 'HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found';

interface Row {
  what: string;
  /** Arguments for both; `--timeout` is curl's `-m`. */
  args: () => Promise<string[]>;
  code: number;
  /** Both write exactly this on stdout. */
  stdout?: string;
}

const rows: Row[] = [
  { what: 'an answer', args: async () => ['-F', 'a=b', (await answering(OK)).url], code: 0, stdout: 'ok' },
  { what: 'an unknown scheme', args: async () => ['-F', 'a=b', 'ftp2://127.0.0.1/x'], code: 1 },
  {
    what: 'an answer that is not HTTP',
    args: async () => ['-F', 'a=b', (await answering('hello\r\n\r\n')).url],
    code: 1,
  },
  { what: 'a URL that cannot be parsed', args: async () => ['-F', 'a=b', 'http://[bad/'], code: 3 },
  {
    what: 'an unresolvable proxy',
    args: async () => ['-x', 'http://no-such-proxy.invalid:3128', '-F', 'a=b', 'http://127.0.0.1:9/'],
    code: 5,
  },
  { what: 'an unresolvable host', args: async () => ['-F', 'a=b', 'http://nonexistent.invalid/'], code: 6 },
  { what: 'nobody listening', args: async () => ['-F', 'a=b', `http://127.0.0.1:${await closedPort()}/`], code: 7 },
  {
    what: 'a proxy nobody listens on',
    args: async () => ['-x', `127.0.0.1:${await closedPort()}`, '-F', 'a=b', (await answering(OK)).url],
    code: 7,
  },
  {
    what: 'a header without a colon',
    args: async () => ['-F', 'a=b', (await answering('HTTP/1.1 200 OK\r\nBad Header\r\n\r\n')).url],
    code: 8,
  },
  {
    what: 'an answer cut before its Content-Length',
    args: async () => ['-F', 'a=b', (await answering('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789')).url],
    code: 18,
    stdout: '0123456789',
  },
  {
    what: 'a chunked answer cut short',
    args: async () => [
      '-F',
      'a=b',
      (await answering('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n')).url,
    ],
    code: 18,
    stdout: '0123456789',
  },
  {
    what: '--fail and a 404',
    args: async () => ['-f', '-F', 'a=b', (await answering(NOT_FOUND)).url],
    code: 22,
    stdout: '',
  },
  {
    what: '--fail-with-body and a 404',
    args: async () => ['--fail-with-body', '-F', 'a=b', (await answering(NOT_FOUND)).url],
    code: 22,
    stdout: 'not found',
  },
  {
    what: '-o into a missing folder',
    args: async () => ['-o', join(dir, 'missing', 'out'), '-F', 'a=b', (await answering(OK)).url],
    code: 23,
  },
  {
    what: 'a missing file',
    args: async () => ['-F', `f=@${join(dir, 'missing')}`, (await answering(OK)).url],
    code: 26,
  },
  {
    what: '--timeout before the answer',
    args: async () => ['--timeout', '0.5', '-F', 'a=b', (await rawServer(() => {})).url],
    code: 28,
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
    stdout: '0123456789',
  },
  {
    what: 'https to a plain http server',
    args: async () => [
      '-F',
      'a=b',
      (await rawServer((socket) => socket.write(OK), { atFirstBytes: true })).url.replace('http:', 'https:'),
    ],
    code: 35,
  },
  {
    what: 'https to a server that resets the connection during the handshake',
    args: async () => [
      '-F',
      'a=b',
      (await rawServer((socket) => socket.resetAndDestroy(), { atFirstBytes: true })).url.replace('http:', 'https:'),
    ],
    code: 35,
  },
  {
    what: 'too many redirects',
    args: async () => [
      '-L',
      '--max-redirs',
      '2',
      '-F',
      'a=b',
      (await answering('HTTP/1.1 307 Temporary Redirect\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n')).url,
    ],
    code: 47,
  },
  {
    what: 'an empty reply',
    args: async () => ['-F', 'a=b', (await rawServer((socket) => socket.end())).url],
    code: 52,
  },
  {
    what: 'a reset once the request has arrived',
    args: async () => ['-F', 'a=b', (await rawServer((socket) => socket.resetAndDestroy(), { afterBody: true })).url],
    code: 56,
  },
  {
    what: 'a proxy refusing the CONNECT tunnel',
    args: async () => {
      const proxy = await answering('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return ['-x', `127.0.0.1:${proxy.port}`, '-F', 'a=b', 'https://127.0.0.1:9/upload'];
    },
    code: 56,
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
  },
  {
    what: 'an unreadable --cacert for an https server',
    args: async () => {
      const secure = await startServer((req, res) => (req.resume(), req.on('end', () => json(res, 200, {}))), {
        https: { cert: tls.cert, key: tls.key },
      });
      return ['--cacert', join(dir, 'missing.crt'), '-F', 'a=b', secure.url];
    },
    code: 77,
  },
  {
    what: 'a trusted --cacert',
    args: async () => {
      const secure = await startServer(
        (req, res) => (req.resume(), req.on('end', () => json(res, 200, { tls: true }))),
        {
          https: { cert: tls.cert, key: tls.key },
        },
      );
      return ['--cacert', caPath, '-F', 'a=b', secure.url];
    },
    code: 0,
    stdout: '{"tls":true}',
  },
  ...[2, 8, 1].map((code) => ({
    what: `an HTTP/2 stream the server resets with error code ${code}`,
    args: async () => {
      const server = await startH2Server((stream) => setTimeout(() => stream.close(code), 10));
      return ['--http2-prior-knowledge', '-F', 'a=b', server.url];
    },
    code: 92,
  })),
];

const forCurl = (args: string[]) => args.map((arg) => (arg === '--timeout' ? '-m' : arg));

describe('the same exit code as curl for the same fate', () => {
  it.each(rows.map((row) => [row.what, row] as const))('%s', async (_what, row) => {
    const args = await row.args();
    const [ours, curls] = await Promise.all([
      runCli(['--no-progress', ...args], { timeout: 20_000 }),
      runCurl(forCurl(args), { timeout: 20_000 }),
    ]);
    expect({ curl: curls.code, ours: ours.code }, `curl: ${curls.stderr}ours: ${ours.stderr}`).toEqual({
      curl: row.code,
      ours: row.code,
    });
    if (row.stdout !== undefined)
      expect({ curl: curls.stdout, ours: ours.stdout }).toEqual({ curl: row.stdout, ours: row.stdout });
  });

  it('standard input that is a directory: curl --data-binary @- exits 26, and so does every form here', async () => {
    const url = (await answering(OK)).url;
    const folder = openSync(dir, 'r');
    try {
      expect((await runCurl(['--data-binary', '@-', url], { stdin: folder })).code).toBe(26);
      for (const args of [
        ['--data-binary', '@-'],
        ['-T', '-'],
        ['-F', 'f=@-'],
        ['-F', 'f=<-'],
      ]) {
        const ours = await runCli([...args, url], { stdin: folder });
        expect({ args, code: ours.code, stderr: ours.stderr }).toEqual({
          args,
          code: 26,
          stderr: 'multipart-poster: standard input is a directory, not data to send\n',
        });
      }
    } finally {
      closeSync(folder);
    }
  });
});
