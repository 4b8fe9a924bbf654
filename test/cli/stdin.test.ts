// The CLI's standard input (-F f=@-, -F f=<-, --data-binary @- and -T -) through a real pipe: at
// the edges of every buffer (the pipe's 64 KiB, the streams' 16 KiB and 64 KiB, 1 MiB), bounded by
// --timeout, cleaned up on signals, refused when it is a directory.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliPath, runCli, runCliWithInput } from '../helpers/cli.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { parseWithBusboy } from '../helpers/parse.js';
import { json, startServer } from '../helpers/servers.js';

const dir = tempDir();
const MiB = 1024 * 1024;
const SIZES = [0, 1, 16383, 16384, 16385, 65535, 65536, 65537, MiB - 1, MiB, MiB + 1];

/** What --dry-run --boundary B writes for each way of reading standard input. */
const FORMS = {
  '-F f=@-': {
    args: ['-F', 'f=@-'],
    body: (data: Buffer) =>
      Buffer.concat([
        Buffer.from(
          '--B\r\nContent-Disposition: form-data; name="f"; filename="-"\r\nContent-Type: application/octet-stream\r\n\r\n',
        ),
        data,
        Buffer.from('\r\n--B--\r\n'),
      ]),
  },
  '-F f=<-': {
    args: ['-F', 'f=<-'],
    body: (data: Buffer) =>
      Buffer.concat([
        Buffer.from('--B\r\nContent-Disposition: form-data; name="f"\r\n\r\n'),
        data,
        Buffer.from('\r\n--B--\r\n'),
      ]),
  },
  '--data-binary @-': { args: ['--data-binary', '@-'], body: (data: Buffer) => data },
  '-T -': { args: ['-T', '-'], body: (data: Buffer) => data },
} as const;

type Form = keyof typeof FORMS;

async function expectBody(form: Form, input: Buffer | Buffer[]) {
  const { args, body } = FORMS[form];
  const data = Buffer.isBuffer(input) ? input : Buffer.concat(input);
  const boundary = form.startsWith('-F') ? ['--boundary', 'B'] : [];
  const result = await runCliWithInput(['--dry-run', ...boundary, ...args], input);
  const expected = body(data);
  expect(result.stderr).toMatch(new RegExp(`^Content-Type: [^\\n]+\\nContent-Length: ${expected.length}\\n$`));
  expect(result.code).toBe(0);
  expect(result.stdout.length).toBe(expected.length);
  expect(result.stdout.equals(expected)).toBe(true);
}

describe('standard input at the edges of every buffer, through a pipe', () => {
  const cases = SIZES.flatMap((size) => (Object.keys(FORMS) as Form[]).map((form) => [form, size] as const));

  it.each(cases)('%s: %i bytes in one write', async (form, size) => {
    await expectBody(form, bytes(size, size + 1));
  });

  it.each(
    [16385, 65537, MiB + 1].flatMap((size) =>
      (['-F f=@-', '-F f=<-', '--data-binary @-'] as const).map((form) => [form, size] as const),
    ),
  )('%s: %i bytes in writes of 4093 bytes', async (form, size) => {
    const data = bytes(size, 7);
    const pieces: Buffer[] = [];
    for (let at = 0; at < size; at += 4093) pieces.push(data.subarray(at, at + 4093));
    await expectBody(form, pieces);
  });

  it.each(['-F f=@-', '-F f=<-', '--data-binary @-'] as const)('%s: 5 bytes written one at a time', async (form) => {
    const data = Buffer.from('ab\r\nc');
    await expectBody(
      form,
      [...data].map((byte) => Buffer.of(byte)),
    );
  });

  it('-F f=<- holds at most 16 MiB: one byte more is exit 26', async () => {
    const limit = 16 * MiB;
    const over = await runCliWithInput(['--dry-run', '-F', 'f=<-'], Buffer.alloc(limit + 1, 0x61));
    expect(over.code).toBe(26);
    expect(over.stderr).toBe(
      'multipart-poster: field "f": "standard input" holds more than 16 MiB, the most a text field read with < may hold; send it as a file with @ instead\n',
    );
  });
});

describe('the CLI bounds and cleans up standard input', () => {
  function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
    const child = spawn(process.execPath, [cliPath, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.stdin.on('error', () => {}); // a write still pending when the child is killed ends in EPIPE
    const done = new Promise<{ code: number | null }>((resolve) => child.on('close', (code) => resolve({ code })));
    return { child, done, stderr: () => stderr };
  }

  it.each([[['-F', 'f=@-']], [['-F', 'f=<-']], [['--data-binary', '@-']], [['-T', '-']]])(
    '%j with --timeout: a stdin that never ends exits 28',
    async (args) => {
      const run = cli([...args, '--timeout', '0.3', '--dry-run']);
      run.child.stdin.write('some bytes, then nothing more');
      const timer = setTimeout(() => run.child.kill('SIGKILL'), 10_000);
      const { code } = await run.done;
      clearTimeout(timer);
      run.child.stdin.destroy();
      expect(code).toBe(28);
      expect(run.stderr()).toMatch(/^multipart-poster: [^\n]*took longer than 300 ms\n$/);
    },
  );

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    '%s while stdin is spooled leaves no temporary file',
    async (signal) => {
      const tmp = tempDir();
      const run = cli(['-F', 'f=@-', 'http://127.0.0.1:9/'], { TMPDIR: tmp });
      run.child.stdin.write(Buffer.alloc(3_000_000, 1));
      for (let i = 0; i < 100 && readdirSync(tmp).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(readdirSync(tmp).length).toBe(1);
      run.child.kill(signal);
      const { code } = await run.done;
      run.child.stdin.destroy();
      expect(code).toBe({ SIGINT: 130, SIGTERM: 143, SIGHUP: 129 }[signal]);
      expect(readdirSync(tmp)).toEqual([]);
    },
  );

  it.each([[['--data-binary', '@-']], [['-T', '-']], [['-F', 'f=@-']], [['-F', 'f=<-']]])(
    '%j: a directory as standard input is exit 26, nothing sent (curl: 26 for --data-binary @-)',
    async (args) => {
      const folder = openSync(tempDir(), 'r');
      try {
        const result = await runCli(['--dry-run', ...args], { stdin: folder });
        expect(result).toEqual({
          code: 26,
          stdout: '',
          stderr: 'multipart-poster: standard input is a directory, not data to send\n',
        });
      } finally {
        closeSync(folder);
      }
    },
  );

  it('standard input asked for twice is a usage error', async () => {
    const twice = await runCliWithInput(['--dry-run', '-F', 't=<-', '-F', 'f=@-'], Buffer.from('x'));
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe(
      'multipart-poster: standard input can be read once, but -F t=<- and -F f=@- both ask for it\nTry multipart-poster --help\n',
    );
  });
});

describe('standard input sent, as in curl', () => {
  it('@- is a file part of stdin (filename "-"), spooled so the body has its exact Content-Length', async () => {
    const input = bytes(3_000_000, 8);
    const result = await runCliWithInput(['--dry-run', '-F', 'a=b', '-F', 'data=@-;type=application/x-thing'], input);
    expect(result.code).toBe(0);
    const contentType = /^Content-Type: (.*)$/m.exec(result.stderr)![1]!;
    expect(result.stderr).toContain(`Content-Length: ${result.stdout.length}\n`);
    const [, data] = await parseWithBusboy({ 'content-type': contentType }, result.stdout);
    expect([data!.name, data!.filename, data!.type]).toEqual(['data', '-', 'application/x-thing']);
    expect(data!.data.equals(input)).toBe(true);
  });

  it('-T - and --data-binary @- send stdin itself with its exact Content-Length (-T as a PUT), -T FILE a file', async () => {
    const server = await startServer((req, res) => {
      let size = 0;
      req.on('data', (c: Buffer) => (size += c.length));
      req.on('end', () =>
        json(res, 200, {
          method: req.method,
          length: req.headers['content-length'],
          chunked: req.headers['transfer-encoding'] ?? null,
          size,
        }),
      );
    });
    const input = bytes(2_500_000, 6);
    for (const [args, method] of [
      [['-T', '-'], 'PUT'],
      [['--data-binary', '@-'], 'POST'],
      [['-T', '-', '-X', 'POST'], 'POST'],
    ] as const) {
      const result = await runCliWithInput([...args, server.url], input);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout.toString())).toEqual({
        method,
        length: String(input.length),
        chunked: null,
        size: input.length,
      });
    }
    const file = writeFile(dir, 'put.bin', bytes(1000, 1));
    const put = await runCliWithInput(['-T', file, server.url], Buffer.alloc(0));
    expect(JSON.parse(put.stdout.toString())).toEqual({ method: 'PUT', length: '1000', chunked: null, size: 1000 });
    expect((await runCliWithInput(['-T', file, '--data-binary', `@${file}`, server.url], Buffer.alloc(0))).code).toBe(
      2,
    );
  });
});
