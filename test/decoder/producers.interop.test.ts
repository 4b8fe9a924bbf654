import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { boundaryOf } from '../../src/common/media-type.js';
import { decodeByteRanges } from '../../src/decoder/byteranges.js';
import { multipartDecode } from '../../src/decoder/decode.js';
import type { DecodedPart } from '../../src/decoder/part.js';
import { bytes, tempDir } from '../helpers/files.js';
import { captureSubmission, CHROMIUM, FIREFOX, FORM_PARTS, stopGroup, type Submission } from './browsers.js';
import { chunksOf, failure } from './helpers.js';
import { freePort } from '../helpers/raw-server.js';

// Bodies written by real producers, not by this library: Python's email generator, Go's
// multipart.Writer, nginx's 206 answer to a multi-range request, and Chromium and Firefox submitting a
// form.
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
    onTestFinished(() => stopGroup(nginx));
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

async function decodedForm({ type, body }: Submission) {
  const parts = await all(multipartDecode([body], { contentType: type }));
  // undici's formData() reads the same body the same way.
  const form = await new Response(body, { headers: { 'content-type': type } }).formData();
  expect([...form.keys()]).toEqual(parts.map((part) => part.name));
  expect((form.get('upload') as File).name).toBe(parts[4]!.filename);
  return parts.map(({ name, filename, type: partType, data }) => [name, filename, partType, data.toString('latin1')]);
}

describe('browsers submitting a form', () => {
  // Each browser runs once; the last test compares their bytes.
  let chromium: Promise<Submission> | undefined;
  let firefox: Promise<Submission> | undefined;

  it('Chromium: names, filenames and values as typed, with every escape undone', async () => {
    chromium ??= captureSubmission(CHROMIUM, 60_000);
    const submission = await chromium;
    expect(submission.type).toMatch(/^multipart\/form-data; boundary=----WebKitFormBoundary[0-9A-Za-z]{16}$/);
    expect(await decodedForm(submission)).toEqual(FORM_PARTS);
  }, 90_000);

  it('Firefox: the same parts', async () => {
    firefox ??= captureSubmission(FIREFOX, 60_000);
    const submission = await firefox;
    expect(submission.type).toMatch(/^multipart\/form-data; boundary=----geckoformboundary[0-9a-f]+$/);
    expect(await decodedForm(submission)).toEqual(FORM_PARTS);
  }, 90_000);

  it("Chromium's and Firefox's bodies differ in their boundary only", async () => {
    chromium ??= captureSubmission(CHROMIUM, 60_000);
    firefox ??= captureSubmission(FIREFOX, 60_000);
    const [fromChromium, fromFirefox] = await Promise.all([chromium, firefox]);
    const neutral = ({ type, body }: Submission) => body.toString('latin1').replaceAll(boundaryOf(type)!, 'BOUNDARY');
    expect(neutral(fromFirefox)).toBe(neutral(fromChromium));
    // What both write: `"`, CR and LF as %22, %0D, %0A; a name's CR or LF made CRLF first, a filename's not.
    expect(neutral(fromFirefox)).toContain('name="line%0D%0Abreak%0D%0Aname"');
    expect(neutral(fromFirefox)).toContain(Buffer.from('filename="a\\résumé %22v2%22%0A.txt"').toString('latin1'));
  }, 150_000);
});
