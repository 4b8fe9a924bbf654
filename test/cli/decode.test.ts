import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { DECODE_SPEC, decodeHelp, runDecode } from '../../src/cli/decode.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { cliPath, root } from '../helpers/cli.js';
import { rawMultipart } from '../helpers/forms.js';
import { cleanUpAfter } from '../helpers/cleanup.js';
import { rawServer } from '../helpers/raw-server.js';

const MiB = 1024 * 1024;
const B = 'cli-boundary';
const { part, closed: form } = rawMultipart(B);

/** runDecode in this process, with its output captured and standard input given. */
async function decode(args: string[], stdin?: Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const input = new PassThrough();
  input.end(stdin ?? Buffer.alloc(0));
  const code = await runDecode(args, { stdout, stderr, stdin: input });
  return { code, stdout: out, stderr: err };
}

/** The built CLI, `decode ARGS`, with `stdin` piped in. */
function builtDecode(args: string[], stdin: Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, 'decode', ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}

const body = form(
  part(['Content-Disposition: form-data; name="a"'], 'hello'),
  part(
    [
      'Content-Disposition: form-data; name="f"; filename="../../escape.txt"',
      'Content-Type: text/plain',
      'X-Raw: caf\xe9',
    ],
    'file data',
  ),
  part(['Content-Type: multipart/mixed; boundary=in'], '--in\r\nContent-Type: text/csv\r\n\r\na,b\r\n--in--'),
);

describe('multipart-poster decode', () => {
  it('lists the parts of a file: index, size, name, filename, type', async () => {
    const path = writeFile(tempDir(), 'body.bin', body);
    const result = await decode([path]);
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        '001\t5\ta\t-\t-',
        '002\t9\tf\t../../escape.txt\ttext/plain',
        '003\t43\t-\t-\tmultipart/mixed; boundary=in',
        '',
      ].join('\n'),
    });
  });

  it('-o writes each part and its header lines beside it, inside the folder whatever the filename; -r splits nested parts', async () => {
    const out = join(tempDir(), 'out');
    const result = await decode(['-o', out, '-r', '-'], body);
    expect(result.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      '001-a',
      '001-a.headers',
      '002-__.._escape.txt',
      '002-__.._escape.txt.headers',
      '003-part',
      '003-part.headers',
    ]);
    expect(readFileSync(join(out, '002-__.._escape.txt'), 'utf8')).toBe('file data');
    expect(readFileSync(join(out, '002-__.._escape.txt.headers'), 'latin1')).toBe(
      'Content-Disposition: form-data; name="f"; filename="../../escape.txt"\nContent-Type: text/plain\nX-Raw: caf\xe9\n',
    );
    expect(readFileSync(join(out, '003-part', '001-part'), 'utf8')).toBe('a,b');
    expect(result.stdout).toContain(`003.001\t3\t-\t-\ttext/csv\t${join(out, '003-part', '001-part')}`);
  });

  it('never overwrites a file: exit 23', async () => {
    const out = tempDir();
    writeFileSync(join(out, '001-a'), 'mine');
    const result = await decode(['-o', out, '-'], body);
    expect(result.code).toBe(23);
    expect(result.stderr).toMatch(/cannot write .*001-a: EEXIST/);
    expect(readFileSync(join(out, '001-a'), 'utf8')).toBe('mine');
  });

  it('-r never makes a nested folder through an entry already in DIR (a link out of it): exit 23, nothing outside', async () => {
    const root = tempDir();
    const out = join(root, 'out');
    const outside = join(root, 'outside');
    mkdirSync(out);
    mkdirSync(outside);
    symlinkSync('../outside', join(out, '001-x'));
    const nested = form(
      part(
        ['Content-Disposition: form-data; name="x"', 'Content-Type: multipart/mixed; boundary=in'],
        '--in\r\nContent-Disposition: attachment; filename="pwned.txt"\r\n\r\nEVIL\r\n--in--',
      ),
    );
    const result = await decode(['-r', '-o', out, '-'], nested);
    expect(result.code).toBe(23);
    expect(result.stderr).toMatch(/cannot make the folder .*001-x: EEXIST/);
    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(out)).toEqual(['001-x']); // no 001-x.headers left for the part refused
  });

  it.each([
    ['a missing file', ['/nonexistent/body.bin'], undefined, 26, /cannot read \/nonexistent\/body.bin/],
    ['a folder as the input', ['/'], undefined, 26, /cannot read \/: EISDIR/],
    [
      'a body without a first delimiter line',
      ['-'],
      Buffer.from('no multipart here\r\n'),
      2,
      /--content-type or --boundary/,
    ],
    [
      'a body cut short',
      ['--boundary', B, '-'],
      body.subarray(0, 60),
      1,
      /not a multipart body it can split: .*ERR_TRUNCATED|ended inside/,
    ],
    ['too many parts', ['--max-parts', '2', '-'], body, 1, /more than 2 parts/],
    ['an unknown option', ['--nope'], undefined, 2, /Unknown option '--nope'/],
    ['a bad limit', ['--max-parts', '0'], undefined, 2, /--max-parts takes a whole number/],
    ['two inputs', ['a', 'b'], undefined, 2, /one input at a time/],
    ['-H without a URL', ['-H', 'A: b', 'file'], undefined, 2, /-H and --timeout are for a URL/],
    ['--recursive without -o', ['-r', '-'], body, 2, /--recursive needs -o DIR/],
  ])('%s: exit %i', async (_what, args, stdin, code, message) => {
    const result = await decode(args, stdin);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
  });

  it('control characters a body carries are shown escaped, C1 (U+009B, U+0085) as C0 and DEL: in the listing and in an error', async () => {
    // The name's bytes are UTF-8 (ESC, then C2 9B: U+009B); the filename's are one byte a character.
    const named = form(
      part(['Content-Disposition: form-data; name="esc\x1b[31m csi\xc2\x9b31m"; filename="nel\x85\x7fx"'], 'x'),
    );
    const listed = await decode(['--boundary', B, '-'], named);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toBe('001\t1\tesc\\x1b[31m csi\\x9b31m\tnel\\x85\\x7fx\t-\n');
    const broken = form(part(['X-Bad\x9b\x1b: y'], 'x'));
    const refused = await decode(['--boundary', B, '-'], broken);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('X-Bad\\x9b');
    expect(refused.stderr.replace(/\n/g, '')).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
  });

  it('--help is made from the option spec', async () => {
    const result = await decode(['--help']);
    expect(result.stdout).toBe(`${decodeHelp()}\n`);
    for (const name of Object.keys(DECODE_SPEC.options)) expect(result.stdout).toContain(`--${name}`);
  });
});

describe('decode of a URL', () => {
  const resource = bytes(1000, 5);
  const server = http.createServer((req, res) => {
    if (req.url === '/missing') return void res.writeHead(404).end('no');
    if (req.url === '/slow') return; // never answers
    // A 206 multipart/byteranges answer to the Range asked for.
    const ranges = /^bytes=(.*)$/
      .exec(req.headers.range ?? '')![1]!
      .split(',')
      .map((r) => r.split('-').map(Number) as [number, number]);
    const answer = Buffer.concat([
      ...ranges.map(([from, to]) =>
        Buffer.concat([
          Buffer.from(
            `\r\n--R\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes ${from}-${to}/1000\r\n\r\n`,
          ),
          resource.subarray(from, to + 1),
        ]),
      ),
      Buffer.from('\r\n--R--\r\n'),
    ]);
    res
      .writeHead(206, { 'content-type': 'multipart/byteranges; boundary=R', 'content-length': answer.length })
      .end(answer);
  });
  let origin = '';
  afterAll(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));

  it('a 206 answer to a Range request, the Content-Type taken from the answer', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const out = tempDir();
    const result = await decode(['-H', 'Range: bytes=0-9,500-599', '-o', out, `${origin}/file`]);
    expect(result.code).toBe(0);
    expect(readFileSync(join(out, '001-part'))).toEqual(resource.subarray(0, 10));
    expect(readFileSync(join(out, '002-part'))).toEqual(resource.subarray(500, 600));
    expect(readFileSync(join(out, '002-part.headers'), 'latin1')).toContain('Content-Range: bytes 500-599/1000\n');
  });

  it.each([
    ['a 404', '/missing', [], 22, /answered 404/],
    ['no answer within --timeout', '/slow', ['--timeout', '0.2'], 28, /no answer .* within 200 ms/],
  ])('%s: exit %i', async (_what, path, args, code, message) => {
    const result = await decode([...args, `${origin}${path}`]);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
  });

  it('a refused connection: exit 7', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await decode([`http://127.0.0.1:${port}/`]);
    expect(result.code).toBe(7);
  });
});

describe('decode of a URL goes through upload(): the same failures and exit codes as the upload command', () => {
  const CUT =
    'HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=B\r\nContent-Length: 500\r\n\r\n' +
    '--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--B\r\nContent-Disposition: form-data; name="b"\r\n\r\nyy';

  it('an answer cut short: exit 18 as with --decode (was 26), the parts complete before the cut kept', async () => {
    const server = await rawServer((socket) => socket.end(CUT));
    const out = join(tempDir(), 'out');
    const result = await decode(['-o', out, server.url]);
    expect(result.stderr).toBe(
      'multipart-poster decode: the answer was cut short: 103 of 500 bytes of the answer received\n',
    );
    expect(result.code).toBe(18);
    expect(readdirSync(out).sort()).toEqual(['001-a', '001-a.headers']);
    expect(readFileSync(join(out, '001-a'), 'utf8')).toBe('x');
  });

  it('a redirect loop: exit 47 (was 56, "fetch failed")', async () => {
    const loop = await rawServer((socket) =>
      socket.end('HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n'),
    );
    const result = await decode([loop.url]);
    expect(result).toMatchObject({
      code: 47,
      stderr: 'multipart-poster decode: more than 5 redirects, the last to /again\n',
    });
    // A control character in the Location is escaped once: by the library's message, not again here.
    const escaped = await rawServer((socket) =>
      socket.end(Buffer.from('HTTP/1.1 302 Found\r\nLocation: /again?\x9b2J\r\nContent-Length: 0\r\n\r\n', 'latin1')),
    );
    expect((await decode([escaped.url])).stderr).toBe(
      'multipart-poster decode: more than 5 redirects, the last to /again?\\x9b2J\n',
    );
  });

  it('a port fetch() refuses to use (6000, 6665-6669, 10080...) is a port like any other (was 56)', async () => {
    const body = '--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--B--\r\n';
    const answer = `HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=B\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const port = await listenOnFirstFree([6666, 6667, 6668, 6669, 6665, 10080, 6000], (socket) =>
      socket.once('data', () => socket.end(answer)),
    );
    const result = await decode([`http://127.0.0.1:${port}/`]);
    expect(result).toMatchObject({ code: 0, stdout: '001\t1\ta\t-\t-\n' });
  });

  it('a password in the URL is in no message: a 404, a timeout', async () => {
    const notFound = await rawServer((socket) => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    const secret = notFound.url.replace('http://', 'http://me:hunter2@');
    const answered = await decode([secret]);
    expect(answered).toMatchObject({
      code: 22,
      stderr: `multipart-poster decode: GET ${notFound.url} was answered 404 Not Found\n`,
    });
    const silent = await rawServer(() => {});
    const timedOut = await decode(['--timeout', '0.3', silent.url.replace('http://', 'http://me:hunter2@')]);
    expect(timedOut.code).toBe(28);
    expect(timedOut.stderr).not.toMatch(/hunter2/);
  });

  it("-H follows the upload command's rules: 'Name:' sends no such header, 'Host:' is refused", async () => {
    let head = '';
    const body = '--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--B--\r\n';
    const server = await rawServer((socket, request) => {
      head = request;
      socket.end(
        `HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=B\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    });
    expect((await decode(['-H', 'X-Empty:', '-H', 'X-Kept: 1', server.url])).code).toBe(0);
    expect(head).toMatch(/\r\nx-kept: 1\r\n/i);
    expect(head).not.toMatch(/x-empty/i);
    expect(await decode(['-H', 'Host:', server.url])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Host cannot be removed: Node's HTTP client always sends it"),
    });
  });

  it('a host that does not resolve: exit 6', async () => {
    const result = await decode(['http://nonexistent.invalid/']);
    expect(result).toMatchObject({
      code: 6,
      stderr: 'multipart-poster decode: could not resolve host nonexistent.invalid\n',
    });
  });
});

/** A server on the first of `ports` that is free (another program may hold one); closed after the test. */
async function listenOnFirstFree(ports: number[], onConnection: (socket: net.Socket) => void): Promise<number> {
  for (const port of ports) {
    const server = net.createServer((socket) => (socket.on('error', () => {}), onConnection(socket)));
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!listening) continue;
    cleanUpAfter(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return port;
  }
  throw new Error(`none of the ports ${ports.join(', ')} is free`);
}

describe('the built CLI reads standard input at every buffer edge', () => {
  it.each([0, 1, 16383, 16384, 16385, 65535, 65536, 65537, MiB - 1, MiB, MiB + 1])(
    'a part of %i bytes',
    async (size) => {
      const data = bytes(size, size + 11);
      const out = tempDir();
      const result = await builtDecode(['-o', out], form(part(['Content-Disposition: form-data; name="big"'], data)));
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toBe(`001\t${size}\tbig\t-\t-\t${join(out, '001-big')}\n`);
      expect(readFileSync(join(out, '001-big')).equals(data)).toBe(true);
    },
  );
});
