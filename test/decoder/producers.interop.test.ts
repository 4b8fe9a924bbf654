import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { decodeByteRanges } from '../../src/decoder/byteranges.js';
import { multipartDecode } from '../../src/decoder/decode.js';
import type { DecodedPart } from '../../src/decoder/part.js';
import { bytes, tempDir } from '../helpers/files.js';
import { chunksOf, failure } from './helpers.js';

// Bodies written by real producers, not by this library: Python's email generator, Go's
// multipart.Writer, nginx's 206 answer to a multi-range request, and Chromium submitting a form.
const run = promisify(execFile);
const producers = join(import.meta.dirname, 'producers');

async function all(parts: AsyncIterable<DecodedPart>) {
  const out = [];
  for await (const part of parts) {
    out.push({
      name: part.name,
      filename: part.filename,
      type: part.contentType,
      headers: part.headers,
      data: Buffer.from(await part.bytes()),
    });
  }
  return out;
}

describe("Python's email generator", () => {
  const generated = run('python3', [join(producers, 'email_generator.py')]).then(({ stdout }) =>
    stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { contentType: string; body: string }),
  );

  it('a multipart/mixed message (SMTP policy: CRLF, folded headers, RFC 2231 filename): every part, whatever the chunking', async () => {
    const [smtp] = await generated;
    const body = Buffer.from(smtp!.body, 'base64');
    for (const chunks of [[body], chunksOf(body, 1), chunksOf(body, 100)]) {
      const [text, attachment, html] = await all(multipartDecode(chunks, { contentType: smtp!.contentType }));
      expect(text!.type).toBe('text/plain; charset="utf-8"');
      expect(Buffer.from(text!.data.toString(), 'base64').toString()).toBe('Grüße, world\n');
      expect(attachment!.filename).toBe('naïve résumé with a name long enough to be folded.bin');
      expect(Buffer.from(attachment!.data.toString(), 'base64')).toEqual(
        Buffer.from(Array.from({ length: 1024 }, (_, i) => i & 0xff)),
      );
      expect(html!.type).toBe('text/html; charset="us-ascii"');
      expect(html!.data.toString()).toContain('x'.repeat(200));
    }
  });

  it('the same message with LF line ends (the default policy): refused, ERR_BOUNDARY_NOT_FOUND naming the bare LF', async () => {
    const [, lf] = await generated;
    const error = await failure(
      all(multipartDecode([Buffer.from(lf!.body, 'base64')], { contentType: lf!.contentType })),
    );
    expect(error).toMatchObject({ code: 'ERR_BOUNDARY_NOT_FOUND', message: expect.stringMatching(/bare LF/) });
  });
});

describe("Go's multipart.Writer", () => {
  it('fields, a file whose name the Writer escaped, a part with its own headers, 70,000 bytes of CR, LF and dashes', async () => {
    const dir = tempDir();
    const { stdout } = await run('go', ['run', join(producers, 'multipart_writer.go')], {
      cwd: dir,
      env: { ...process.env, GO111MODULE: 'off' },
    });
    const { contentType, body } = JSON.parse(stdout) as { contentType: string; body: string };
    const bytesOf = Buffer.from(body, 'base64');
    const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => '\r\n-x'.charCodeAt(i % 4)));
    for (const chunks of [[bytesOf], chunksOf(bytesOf, 16384), chunksOf(bytesOf, 65537)]) {
      const parts = await all(multipartDecode(chunks, { contentType }));
      expect(parts.map(({ name, filename, type }) => [name, filename, type])).toEqual([
        ['plain', undefined, undefined],
        ['quote"and\\backslash', undefined, undefined],
        ['file', 'dir\\na"me.bin', 'application/octet-stream'],
        [undefined, undefined, 'application/json'],
      ]);
      expect(parts[2]!.data.equals(data)).toBe(true);
      expect(parts[3]!.headers.get('content-id')).toBe('<meta@example.com>');
      expect(parts[3]!.data.toString()).toBe('{"a":1}');
    }
  });
});

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Stops a child and its own children (Chromium's); resolves once it is gone. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
  await gone;
}

describe("nginx's 206 multipart/byteranges", () => {
  it('a multi-range request for a static file: each range with its bytes; a single range too', async () => {
    const dir = tempDir();
    const port = await freePort();
    const file = bytes(300_000, 9);
    mkdirSync(join(dir, 'www'));
    mkdirSync(join(dir, 'tmp'));
    writeFileSync(join(dir, 'www', 'file.bin'), file);
    const config = `worker_processes 1; daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  types { application/octet-stream bin; }
  server { listen 127.0.0.1:${port}; root ${dir}/www; }
}`;
    writeFileSync(join(dir, 'nginx.conf'), config);
    const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore', detached: true });
    onTestFinished(() => stop(nginx));
    const url = `http://127.0.0.1:${port}/file.bin`;
    for (let attempt = 0; ; attempt++) {
      const ok = await fetch(url, { method: 'HEAD' }).then(
        () => true,
        () => false,
      );
      if (ok) break;
      if (attempt === 100) throw new Error(`nginx did not start: ${nginx.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const response = await fetch(url, { headers: { range: 'bytes=0-99,100000-165535,-7' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-type')).toMatch(/^multipart\/byteranges; boundary=/);
    const got = [];
    for await (const range of decodeByteRanges(response)) {
      got.push({
        start: range.start,
        end: range.end,
        size: range.size,
        type: range.contentType,
        data: Buffer.from(await range.body.bytes()),
      });
    }
    expect(got.map(({ start, end, size, type }) => [start, end, size, type])).toEqual([
      [0, 99, 300_000, 'application/octet-stream'],
      [100_000, 165_535, 300_000, 'application/octet-stream'],
      [299_993, 299_999, 300_000, 'application/octet-stream'],
    ]);
    for (const range of got) expect(range.data.equals(file.subarray(range.start, range.end + 1))).toBe(true);

    const single = await fetch(url, { headers: { range: 'bytes=10-19' } });
    const ranges = [];
    for await (const range of decodeByteRanges(single))
      ranges.push([range.start, range.end, range.size, Buffer.from(await range.body.bytes())]);
    expect(ranges).toEqual([[10, 19, 300_000, file.subarray(10, 20)]]);
  });
});

describe('Chromium submitting a form', () => {
  it('text fields and a file, as the browser encodes them: names, filenames and values as typed', async () => {
    const dir = tempDir();
    let captured: ((value: { type: string; body: Buffer }) => void) | undefined;
    const submitted = new Promise<{ type: string; body: Buffer }>((resolve) => (captured = resolve));
    const page = `<!doctype html><meta charset="utf-8"><form method="post" action="/submit" enctype="multipart/form-data">
<input name="plain" value="hello"><textarea name="lines">one\ntwo</textarea>
<input name='q"uote' value="naïve ☃"><input type="file" name="upload"><input type="file" name="empty"></form>
<script>
const transfer = new DataTransfer();
transfer.items.add(new File(['data\\r\\n--tricky', new Uint8Array([0, 255, 13, 10])], 'résumé "v2".txt', { type: 'text/plain' }));
document.querySelector('input[name=upload]').files = transfer.files;
document.querySelector('form').submit();
</script>`;
    const server = http.createServer((req, res) => {
      if (req.method === 'GET')
        return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        captured?.({ type: req.headers['content-type']!, body: Buffer.concat(chunks) });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Chromium keeps a socket in TMPDIR, whose path must be short (under 108 bytes): a folder of its
    // own in /tmp, removed once Chromium is stopped.
    const scratch = mkdtempSync('/tmp/mpc-');
    const chromium = spawn(
      'chromium',
      ['--headless=new', '--no-sandbox', '--disable-gpu', `--user-data-dir=${join(dir, 'profile')}`, `${origin}/`],
      { stdio: 'ignore', detached: true, env: { ...process.env, TMPDIR: scratch } },
    );
    onTestFinished(async () => {
      await stop(chromium);
      rmSync(scratch, { recursive: true, force: true });
    });
    const timer = setTimeout(() => captured?.({ type: '', body: Buffer.alloc(0) }), 60_000);
    const { type, body } = await submitted;
    clearTimeout(timer);
    await stop(chromium);
    expect(type).toMatch(/^multipart\/form-data; boundary=----WebKitFormBoundary/);

    const parts = await all(multipartDecode([body], { contentType: type }));
    expect(
      parts.map(({ name, filename, type: partType, data }) => [name, filename, partType, data.toString('latin1')]),
    ).toEqual([
      ['plain', undefined, undefined, 'hello'],
      ['lines', undefined, undefined, 'one\r\ntwo'],
      ['q"uote', undefined, undefined, Buffer.from('naïve ☃').toString('latin1')],
      [
        'upload',
        'résumé "v2".txt',
        'text/plain',
        Buffer.concat([Buffer.from('data\r\n--tricky'), Buffer.from([0, 255, 13, 10])]).toString('latin1'),
      ],
      ['empty', '', 'application/octet-stream', ''],
    ]);
    // undici's formData() reads the same body the same way.
    const form = await new Response(body, { headers: { 'content-type': type } }).formData();
    expect([...form.keys()]).toEqual(parts.map((part) => part.name));
    expect((form.get('upload') as File).name).toBe(parts[3]!.filename);
  }, 90_000);
});
