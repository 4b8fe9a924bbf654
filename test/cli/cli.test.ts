import { createHash } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ReceiptReport } from '../../src/receiver/index.js';
import { cliPath, root, runCli, startServe } from '../helpers/cli.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { json, startServer, tls } from '../helpers/servers.js';

const dir = tempDir();
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const fixture = (name: string) => join(root, 'fixtures', 'files', name);
const serve = await startServe();
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

const hops: string[] = [];
const redirecting = await startServer((req, res) => {
  hops.push(`${req.method} ${req.url}`);
  req.resume();
  req.on('end', () => {
    const step = Number(/step=(\d+)/.exec(req.url!)?.[1] ?? 0);
    if (step < 2) json(res, 307, { redirected: true }, { location: `/upload?step=${step + 1}` });
    else json(res, 200, { final: true });
  });
});

/** Reads slowly, so a progress display has time to update. */
const slow = await startServer((req, res) => {
  req.on('data', () => {
    req.pause();
    setTimeout(() => req.resume(), 5);
  });
  req.on('end', () => json(res, 200, {}));
});

describe('help and usage', () => {
  it('--help prints the usage and exit codes; --version the version', async () => {
    const help = await runCli(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain('Usage:');
    expect(help.stdout).toContain('Exit codes');
    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it.each([
    [['-F', 'novalue', serve.url], 'bad -F "novalue": expected name=value, name=@file or name=<file'],
    [['-F', 'a=@', serve.url], 'bad -F "a=@": no file named after @'],
    [['-F', 'a="open', serve.url], 'bad -F "a=\\"open": unterminated quote'],
    [['-H', 'no colon', '-F', 'a=b', serve.url], `bad -H "no colon": expected 'Name: value'`],
    [[serve.url], 'nothing to send: give at least one -F (or --data-binary @FILE, or -T FILE)'],
    [['-F', 'a=b'], 'no URL given (use --dry-run or -o FILE to write the body instead)'],
    [['--bogus', '-F', 'a=b', serve.url], "Unknown option '--bogus'"],
    [['--timeout', 'soon', '-F', 'a=b', serve.url], '--timeout takes a number of seconds, not "soon"'],
    [
      ['--timeout', '3000000', '-F', 'a=b', serve.url],
      '--timeout takes at most 2147483 seconds (about 24 days), not "3000000"',
    ], // exited 28 at once
    [['--timeout', '0', '-F', 'a=b', serve.url], '--timeout takes a number of seconds above 0, not "0"'],
    [
      ['--max-redirs', '-2', '-L', '-F', 'a=b', serve.url],
      '--max-redirs takes a whole number (or -1 for no limit), not "-2"',
    ],
    [
      ['--max-redirs', '2.5', '-L', '-F', 'a=b', serve.url],
      '--max-redirs takes a whole number (or -1 for no limit), not "2.5"',
    ],
    [
      ['-X', 'GET X', '-F', 'a=b', serve.url],
      `-X takes an HTTP method (letters, digits and !#$%&'*+-.^_\`|~, such as PUT), not "GET X"`,
    ],
    [
      ['-H', 'Bad Name: x', '-F', 'a=b', serve.url],
      `bad -H "Bad Name: x": "Bad Name" is not a header name (letters, digits and !#$%&'*+-.^_\`|~, nothing else, not even a space)`,
    ],
    [
      ['-H', 'X-A: a\x01b', '-F', 'a=b', serve.url],
      'bad -H "X-A: a\\u0001b": a header value cannot hold a control character',
    ],
    [
      ['-H', 'Content-Length: 1', '-F', 'a=b', serve.url],
      'bad -H "Content-Length: 1": Content-Length is set from the body and cannot be changed',
    ],
    [
      ['-H', 'Content-Type: text/plain', '-F', 'a=b', serve.url],
      '-H "Content-Type: text/plain" with -F: -F sends a multipart body (multipart/form-data, or multipart/related, mixed...); to send a file as text/plain, use --data-binary @FILE',
    ],
    [
      ['-H', 'Content-Type: multipart/related; type', '-F', 'a=b', serve.url],
      '-H "Content-Type: multipart/related; type" with -F: "type" is not a key=value parameter',
    ],
    [
      ['-F', 'a=@x.txt,y.txt;type=text/plain', serve.url],
      'bad -F "a=@x.txt,y.txt;type=text/plain": ;type= and ;filename= name one file; with several files each gets its own name and guessed type',
    ],
    [['-F', 'a=b;headers=NoColon', serve.url], 'bad ;headers= for field "a": "NoColon" is not \'Name: value\''],
    [['-F', 'a=b;headers=Bad Name: x', serve.url], null], // the library's ERR_INVALID_HEADER_NAME
    [['--form-string', '=x', serve.url], 'bad --form-string "=x": expected name=value'],
    [['--boundary', 'bad boundary ', '-F', 'a=b', serve.url], null], // the library's ERR_INVALID_BOUNDARY
    [['serve', '--port', '65536'], '--port takes a whole number from 0 to 65535, not "65536"'],
    [['serve', '--port', ''], '--port takes a whole number from 0 to 65535, not ""'],
  ])('%j is a usage error (exit 2) in one line', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    if (message === null) expect(result.stderr).toMatch(/^multipart-poster: [^\n]+\nTry multipart-poster --help\n$/);
    else expect(result.stderr).toBe(`multipart-poster: ${message}\nTry multipart-poster --help\n`);
  });
});

describe('sending to serve', () => {
  it('uploads fields and files with curl -F grammar; the report comes back on stdout', async () => {
    const notes = writeFile(dir, 'notes.txt', 'from a file ☃');
    const result = await runCli([
      serve.url,
      '-F',
      'title=hello world',
      '-F',
      'quoted="a;b"',
      '-F',
      `image=@${fixture('pixels.png')}`,
      '-F',
      `renamed=@${fixture('hello.txt')};type=text/x-custom;filename=other.txt`,
      '-F',
      `notes=<${notes}`,
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(''); // not a terminal: no progress unless asked
    const report = JSON.parse(result.stdout) as ReceiptReport;
    expect(report).toMatchObject({ method: 'POST', chunked: false, lengthMatches: true });
    expect(
      report.parts.map(({ name, filename, type, size, sha256: hash }) => ({ name, filename, type, size, hash })),
    ).toEqual([
      // text fields are sent without a Content-Type: the receiver reports none
      { name: 'title', filename: undefined, type: null, size: 11, hash: sha256('hello world') },
      { name: 'quoted', filename: undefined, type: null, size: 3, hash: sha256('a;b') },
      {
        name: 'image',
        filename: 'pixels.png',
        type: 'image/png',
        size: 9273,
        hash: sha256(readFileSync(fixture('pixels.png'))),
      },
      {
        name: 'renamed',
        filename: 'other.txt',
        type: 'text/x-custom',
        size: 12,
        hash: sha256(readFileSync(fixture('hello.txt'))),
      },
      { name: 'notes', filename: undefined, type: null, size: 15, hash: sha256('from a file ☃') },
    ]);
  });

  it('-X, -H and -i: the method, extra headers, and the status line and headers before the body', async () => {
    const seen: Array<{ method?: string; trace?: string | string[] }> = [];
    const server = await startServer((req, res) => {
      seen.push({ method: req.method, trace: req.headers['x-trace'] });
      req.resume();
      req.on('end', () => json(res, 201, { ok: true }, { 'x-answer': 'yes' }));
    });
    const result = await runCli(['-X', 'PUT', '-H', 'X-Trace: abc', '-i', '-F', 'a=b', server.url]);
    expect(result.code).toBe(0);
    expect(seen).toEqual([{ method: 'PUT', trace: 'abc' }]);
    expect(result.stdout).toMatch(/^HTTP\/1\.1 201 Created\r\n/);
    expect(result.stdout).toContain('x-answer: yes\r\n');
    expect(result.stdout.endsWith('\r\n\r\n{"ok":true}')).toBe(true);
  });

  it('-i with -o FILE writes the status line and headers into FILE before the body, as curl does', async () => {
    const out = join(dir, 'included.txt');
    const result = await runCli(['-i', '-o', out, '-F', 'a=b', serve.url]);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const [, body] = text.split('\r\n\r\n');
    expect(JSON.parse(body!)).toMatchObject({ parts: [{ name: 'a' }] });
  });

  it('-o writes the response body to a file', async () => {
    const out = join(dir, 'response.json');
    const result = await runCli(['-o', out, '-F', 'a=b', serve.url]);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ lengthMatches: true, parts: [{ name: 'a' }] });
  });

  it('--data-binary @FILE sends the file itself, not multipart', async () => {
    const result = await runCli(['-X', 'PUT', '--data-binary', `@${fixture('data.json')}`, serve.url]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as ReceiptReport;
    expect(report).toMatchObject({
      method: 'PUT',
      lengthMatches: true,
      parts: [{ type: 'application/json', size: 219 }],
    });
  });

  it('serve --text answers with a table, and ?format=json still gets JSON', async () => {
    const textServe = await startServe(['--text']);
    const text = await runCli(['-F', 'a=b', textServe.url]);
    expect(text.stdout).toMatch(
      /^POST \/: 1 part\(s\), Content-Length \d+, matches the \d+ bytes received\nname +filename +type +size +sha256\na +1 +3e23e8160039/,
    );
    const asJson = await runCli(['-F', 'a=b', `${textServe.url}?format=json`]);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ parts: [{ name: 'a' }] });
    expect(textServe.log()).toMatch(/POST \/: 1 part\(s\), \d+ bytes, Content-Length matches\n/);
  });

  it('serve answers 413 over --max-size', async () => {
    const small = await startServe(['--max-size', '100']);
    const result = await runCli(['--fail', '-F', `f=@${fixture('pixels.png')}`, small.url]);
    expect(result.code).toBe(22);
    expect(result.stderr).toBe('multipart-poster: the server answered 413 Payload Too Large\n');
  });
});

describe('dry run', () => {
  it('--dry-run writes the body to stdout and the headers to stderr, lengths agreeing', async () => {
    const result = await runCli(['--dry-run', '--boundary', 'XyZ', '-F', 'a=b', '-F', `f=@${fixture('hello.txt')}`]);
    expect(result.code).toBe(0);
    const expected =
      '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n' +
      '--XyZ\r\nContent-Disposition: form-data; name="f"; filename="hello.txt"\r\nContent-Type: text/plain\r\n\r\nhello world\n\r\n' +
      '--XyZ--\r\n';
    expect(result.stdout).toBe(expected);
    expect(result.stderr).toBe(
      `Content-Type: multipart/form-data; boundary=XyZ\nContent-Length: ${Buffer.byteLength(expected)}\n`,
    );
  });

  it('-o FILE with no URL writes the body to FILE', async () => {
    const out = join(dir, 'body.bin');
    const result = await runCli(['-o', out, '-F', `f=@${fixture('pixels.png')}`]);
    expect(result.code).toBe(0);
    const length = Number(/Content-Length: (\d+)/.exec(result.stderr)![1]);
    expect(readFileSync(out).length).toBe(length);
  });
});

/** Records each request's raw header lines (as bytes) and body. */
const seen: Array<{ headers: Array<[string, Buffer]>; body: Buffer }> = [];
const recording = await startServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const headers: Array<[string, Buffer]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      headers.push([req.rawHeaders[i]!.toLowerCase(), Buffer.from(req.rawHeaders[i + 1]!, 'latin1')]);
    seen.push({ headers, body: Buffer.concat(chunks) });
    json(res, 200, { ok: true });
  });
});
describe('headers the caller gives', () => {
  const header = (name: string) =>
    seen
      .at(-1)!
      .headers.filter(([n]) => n === name)
      .map(([, v]) => v.toString('utf8'));

  it('-H Content-Type with --data-binary is the type sent, once, and the one --dry-run shows (curl sends it)', async () => {
    seen.length = 0;
    const result = await runCli([
      '-X',
      'PUT',
      '-H',
      'Content-Type: application/x-custom; v=1',
      '--data-binary',
      `@${fixture('data.json')}`,
      recording.url,
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(header('content-type')).toEqual(['application/x-custom; v=1']);
    expect(seen[0]!.body).toEqual(readFileSync(fixture('data.json')));
    const dry = await runCli([
      '--dry-run',
      '-H',
      'Content-Type: application/x-custom',
      '--data-binary',
      `@${fixture('data.json')}`,
    ]);
    expect(dry).toMatchObject({ code: 0, stderr: 'Content-Type: application/x-custom\nContent-Length: 219\n' });
    const served = JSON.parse(
      (
        await runCli([
          '-X',
          'PUT',
          '-H',
          'content-type: image/x-mine',
          '--data-binary',
          `@${fixture('data.json')}`,
          serve.url,
        ])
      ).stdout,
    ) as ReceiptReport;
    expect(served.parts).toMatchObject([{ type: 'image/x-mine', size: 219 }]);
  });

  it('-H "Content-Type: multipart/form-data" with -F is sent with the boundary the body has; a boundary there is the one used', async () => {
    seen.length = 0;
    expect((await runCli(['-H', 'Content-Type: multipart/form-data', '-F', 'a=b', recording.url])).code).toBe(0);
    const [type] = header('content-type');
    expect(type).toMatch(/^multipart\/form-data; boundary=(\S+)$/);
    expect(seen[0]!.body.toString()).toContain(`--${/boundary=(\S+)/.exec(type!)![1]}--\r\n`);
    expect(
      (await runCli(['-H', 'Content-Type: multipart/form-data; boundary=MyBoundary', '-F', 'a=b', recording.url])).code,
    ).toBe(0);
    expect(header('content-type')).toEqual(['multipart/form-data; boundary=MyBoundary']);
    expect(seen[1]!.body.toString()).toBe(
      '--MyBoundary\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--MyBoundary--\r\n',
    );
    const report = JSON.parse(
      (await runCli(['-H', 'Content-Type: multipart/form-data', '-F', 'a=b', serve.url])).stdout,
    ) as ReceiptReport;
    expect(report).toMatchObject({ lengthMatches: true, parts: [{ name: 'a', size: 1 }] });
  });

  it('a UTF-8 header value goes out as its UTF-8 bytes, as curl sends it; -v shows it as given', async () => {
    seen.length = 0;
    const result = await runCli(['-v', '-H', 'X-Snow: ☃ é', '-F', 'a=b', recording.url]);
    expect(result.code).toBe(0);
    expect(header('x-snow')).toEqual(['☃ é']);
    expect(result.stderr).toContain('> X-Snow: ☃ é\n');
  });

  it('an option value may start with "-", as in curl', async () => {
    seen.length = 0;
    expect((await runCli(['-H', '-Dash: -1', '-F', 'a=b', recording.url])).code).toBe(0);
    expect(header('-dash')).toEqual(['-1']);
  });
});

describe('-F name=<file is bounded', () => {
  it('an endless device is cut at 16 MiB: exit 26, at once', async () => {
    const started = Date.now();
    const result = await runCli(['-F', 'a=</dev/zero', serve.url]);
    expect(result.code).toBe(26);
    expect(result.stderr).toBe(
      'multipart-poster: field "a": "/dev/zero" holds more than 16 MiB, the most a text field read with < may hold; send it as a file with @ instead\n',
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a file of exactly 16 MiB is sent; one byte more is refused', async () => {
    const exact = writeFile(dir, 'exact.txt', Buffer.alloc(16 * 1024 * 1024, 0x61));
    const report = JSON.parse((await runCli(['-F', `a=<${exact}`, serve.url])).stdout) as ReceiptReport;
    expect(report).toMatchObject({ lengthMatches: true, parts: [{ name: 'a', size: 16 * 1024 * 1024 }] });
    const over = writeFile(dir, 'over.txt', Buffer.alloc(16 * 1024 * 1024 + 1, 0x61));
    expect((await runCli(['-F', `a=<${over}`, serve.url])).code).toBe(26);
  });

  it('a FIFO nobody writes to is given up on after --timeout: exit 28', async () => {
    const fifo = join(dir, 'idle.fifo');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const result = await runCli(['--timeout', '0.5', '-F', `a=<${fifo}`, serve.url], { timeout: 15_000 });
    expect(result.code).toBe(28);
    expect(result.stderr).toBe(
      'multipart-poster: reading the inputs (-F <file values, standard input) took longer than 500 ms\n',
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a pipe, as bash gives for <(command), is read to its end', async () => {
    const script = join(root, 'test', 'fixtures', 'cli', 'process-substitution.sh');
    const { stdout } = await promisify(execFile)('sh', [script, process.execPath, cliPath, serve.url]);
    expect((JSON.parse(stdout) as ReceiptReport).parts).toMatchObject([
      { name: 'a', size: 11, sha256: sha256('from a pipe') },
    ]);
  });
});

describe('redirects and answers', () => {
  it('without -L a redirect is printed as it came; with -L it is followed, re-sending the body', async () => {
    hops.length = 0;
    const plain = await runCli(['-i', '-F', 'a=b', redirecting.url]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^HTTP\/1\.1 307 Temporary Redirect\r\n/);
    expect(hops).toEqual(['POST /upload']);
    hops.length = 0;
    const followed = await runCli(['-L', '-F', 'a=b', redirecting.url]);
    expect(followed).toMatchObject({ code: 0, stdout: '{"final":true}', stderr: '' });
    expect(hops).toEqual(['POST /upload', 'POST /upload?step=1', 'POST /upload?step=2']);
  });

  it('--max-redirs -1 is no limit, as in curl', async () => {
    hops.length = 0;
    const result = await runCli(['-L', '--max-redirs', '-1', '-F', 'a=b', redirecting.url]);
    expect(result).toMatchObject({ code: 0, stdout: '{"final":true}', stderr: '' });
    expect(hops).toHaveLength(3);
  });

  it('--max-redirs caps the hops: exit 47', async () => {
    const result = await runCli(['-L', '--max-redirs', '1', '-F', 'a=b', redirecting.url]);
    expect(result.code).toBe(47);
    expect(result.stderr).toBe('multipart-poster: more than 1 redirects, the last to /upload?step=2\n');
  });

  it('an early 413 on a 50 MiB file: --fail exits 22 at once, writing no body (as curl); without --fail the answer is printed', async () => {
    const big = writeFile(dir, 'big.bin', bytes(50 * 1024 * 1024, 3));
    const refusing = await startServer((_req, res) => json(res, 413, { error: 'too large' }));
    const started = Date.now();
    const failed = await runCli(['--fail', '--no-expect-continue', '-F', `f=@${big}`, refusing.url]);
    expect(failed).toMatchObject({ code: 22, stdout: '' });
    expect(failed.stderr).toBe('multipart-poster: the server answered 413 Payload Too Large\n');
    expect(Date.now() - started).toBeLessThan(10_000);
    const printed = await runCli(['-F', `f=@${big}`, refusing.url]); // Expect: 100-continue, answered 413 first
    expect(printed).toMatchObject({ code: 0, stdout: '{"error":"too large"}', stderr: '' });
  });
});

describe('errors are one line with a documented exit code', () => {
  it('a missing file: exit 26', async () => {
    const result = await runCli(['-F', `f=@${dir}/missing.png`, serve.url]);
    expect(result.code).toBe(26);
    expect(result.stderr).toMatch(
      /^multipart-poster: field "f": cannot read file ".*missing\.png": ENOENT: no such file or directory, stat '.*missing\.png'\n$/,
    );
  });

  it('a file given with < that is missing: exit 26', async () => {
    const result = await runCli(['-F', `f=<${dir}/missing.txt`, serve.url]);
    expect(result.code).toBe(26);
    expect(result.stderr).toMatch(/^multipart-poster: cannot read ".*missing\.txt" for field "f": ENOENT/);
  });

  it('nobody listening: exit 7', async () => {
    const gone = await startServer(() => {});
    await gone.close();
    const result = await runCli(['-F', 'a=b', gone.url]);
    expect(result.code).toBe(7);
    expect(result.stderr).toBe(`multipart-poster: could not connect to ${new URL(gone.url).host}: ECONNREFUSED\n`);
  });

  it('an unknown host: exit 6', async () => {
    const result = await runCli(['-F', 'a=b', 'http://nonexistent.invalid/upload']);
    expect(result.code).toBe(6);
    expect(result.stderr).toBe('multipart-poster: could not resolve host nonexistent.invalid\n');
  });

  it('a timeout: exit 28', async () => {
    const silent = await startServer(() => {});
    const result = await runCli(['--timeout', '0.3', '-F', 'a=b', silent.url]);
    expect(result.code).toBe(28);
    expect(result.stderr).toBe('multipart-poster: the upload took longer than 300 ms\n');
  });

  it('--verbose adds the request and a stack trace', async () => {
    const result = await runCli(['-v', '-F', `f=@${dir}/missing.png`, serve.url]);
    expect(result.code).toBe(26);
    expect(result.stderr).toContain('MultipartError: field "f": cannot read file');
    expect(result.stderr).toMatch(/\n {4}at /);
  });

  it('HTTPS: an untrusted certificate exits 60; --cacert or --insecure make it work', async () => {
    const secure = await startServer((req, res) => (req.resume(), req.on('end', () => json(res, 200, { tls: true }))), {
      https: { cert: tls.cert, key: tls.key },
    });
    const untrusted = await runCli(['-F', 'a=b', secure.url]);
    expect(untrusted.code).toBe(60);
    expect(untrusted.stderr).toMatch(
      /^multipart-poster: the certificate of 127\.0\.0\.1:\d+ is not trusted: .* \(use --cacert or --insecure\)\n$/,
    );
    const ca = join(root, 'fixtures', 'tls', 'ca.crt');
    expect(await runCli(['--cacert', ca, '-F', 'a=b', secure.url])).toMatchObject({ code: 0, stdout: '{"tls":true}' });
    expect(await runCli(['-k', '-F', 'a=b', secure.url])).toMatchObject({ code: 0, stdout: '{"tls":true}' });
  });
});

describe('progress', () => {
  it('--progress in a pipe prints plain lines ending at 100%', async () => {
    const file = writeFile(dir, 'progress.bin', bytes(24 * 1024 * 1024, 4));
    const result = await runCli(['--progress', '--no-expect-continue', '-F', `f=@${file}`, slow.url]);
    expect(result.code).toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines)
      expect(line).toMatch(
        /^upload +\d{1,3}% {2}[\d.]+ (B|KiB|MiB) \/ 24\.0 MiB {2}(([\d.]+|--) (B|KiB|MiB)\/s {2}ETA \S+|waiting for response)$/,
      );
    // the body handed over, the answer not yet there (the server still reads)
    expect(lines.filter((line) => line.endsWith('waiting for response'))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/^upload 100% {2}24\.0 MiB \/ 24\.0 MiB {2}.* ETA 0s$/);
  });
});
