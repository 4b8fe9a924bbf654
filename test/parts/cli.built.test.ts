import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { startServer } from '../helpers/servers.js';
import { partsCli } from './cli-run.js';
import { startGoogleFake } from './fakes/google.js';
import { startS3Fake } from './fakes/s3.js';
import { startTusServer } from './fakes/tus-server.js';

/**
 * Whether process `pid` is gone within a second: ended, or a zombie (killed; this machine's init may
 * take its time to reap an orphan).
 */
async function goneSoon(pid: number): Promise<boolean> {
  const alive = () => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 40 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  return !alive();
}
import { MiB, randomFile, presignedUpload } from './helpers.js';

const cli = partsCli;

describe('multipart-poster --tus, --resumable, --s3-part-urls', () => {
  it('--tus URL -T FILE prints the upload URL', async () => {
    const server = await startTusServer(tempDir());
    const file = randomFile(tempDir(), 'a.bin', 3 * MiB + 1);
    const run = await cli(['--tus', server.endpoint, '-T', file.path, '--part-size', '1M', '--no-progress'], tempDir())
      .result;
    expect(run.code, run.stderr).toBe(0);
    expect(server.sha256(run.stdout.trim())).toBe(file.sha256);
  });

  it('--resumable URL -T FILE prints the final answer', async () => {
    const google = await startGoogleFake();
    const file = randomFile(tempDir(), 'b.bin', MiB + 5);
    const run = await cli(['--resumable', google.start, '-T', file.path, '--part-size', '256K'], tempDir()).result;
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ name: 'b.bin', sha256: file.sha256 });
  });

  it('--s3-part-urls FILE and --s3-complete: parts to presigned URLs, completed', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'c.bin', 3 * MiB);
    const { uploadId, urls } = await presignedUpload(fake, 'c.bin', 3);
    writeFileSync(join(dir, 'urls.txt'), `# part URLs\n${urls.join('\n')}\n`);
    const complete = fake.presign('POST', 'c.bin', { uploadId });
    const run = await cli(
      ['--s3-part-urls', join(dir, 'urls.txt'), '--s3-complete', complete, '-T', file.path, '--part-size', '1M'],
      tempDir(),
    ).result;
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ uploadId, completed: true });
    expect(fake.objects.get('c.bin')?.sha256).toBe(file.sha256);
  });

  it('--s3-part-command: the command prints each part URL; without --s3-complete the parts are printed', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'd.bin', 2 * MiB);
    const { urls } = await presignedUpload(fake, 'd.bin', 2);
    writeFileSync(join(dir, 'urls.txt'), urls.join('\n'));
    const command = `head -n "$PART_NUMBER" ${join(dir, 'urls.txt')} | tail -n 1`;
    const run = await cli(['--s3-part-command', command, '-T', file.path, '--part-size', '1M'], tempDir()).result;
    expect(run.code, run.stderr).toBe(0);
    const printed = JSON.parse(run.stdout) as { completed: boolean; parts: Array<{ PartNumber: number }> };
    expect(printed.completed).toBe(false);
    expect(printed.parts.map((p) => p.PartNumber)).toEqual([1, 2]);
  });

  it('a part URL presigned for another part or upload: exit 2, nothing stored there as that part', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'i.bin', 2 * MiB);
    const start = async () => (await presignedUpload(fake, 'i.bin', 0)).uploadId;
    const uploadId = await start();
    const part1 = fake.presign('PUT', 'i.bin', { partNumber: '1', uploadId });
    const other = fake.presign('PUT', 'i.bin', { partNumber: '2', uploadId: await start() });
    // A line given twice, and a command that prints part 1's URL for every part.
    writeFileSync(join(dir, 'twice.txt'), `${part1}\n${part1}\n`);
    writeFileSync(join(dir, 'other.txt'), `${part1}\n${other}\n`);
    for (const source of [
      ['--s3-part-urls', join(dir, 'twice.txt')],
      ['--s3-part-command', `echo '${part1}'`],
      ['--s3-part-urls', join(dir, 'other.txt')],
    ]) {
      const run = await cli([...source, '-T', file.path, '--part-size', '1M', '--parallel', '1'], tempDir()).result;
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/the URL given for part 2 is for (part 1|another upload)/);
    }
    expect([...fake.uploads.get(uploadId)!.parts.keys()]).toEqual([1]);
  });

  it('--s3-part-command that fails for part 2: exit 1 in its own words, the upload left to its owner', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'q.bin', 2 * MiB);
    const { urls, uploadId } = await presignedUpload(fake, 'q.bin', 1);
    writeFileSync(join(dir, 'url.txt'), urls[0]!);
    const command = `if [ "$1" = 1 ]; then cat ${join(dir, 'url.txt')}; else echo no >&2; exit 3; fi`;
    const run = await cli(
      ['--s3-part-command', command, '-T', file.path, '--part-size', '1M', '--parallel', '1'],
      tempDir(),
    ).result;
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('multipart-poster: --s3-part-command failed for part 2 (3: no)');
    expect(run.stderr).not.toContain('s3Parts');
    expect([...fake.uploads.get(uploadId)!.parts.keys()]).toEqual([1]);
  });

  it('a part URL that names no partNumber: exit 2 before a byte is sent to it', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'p.bin', 2 * MiB);
    const uploadId = (await presignedUpload(fake, 'p.bin', 0)).uploadId;
    const part1 = fake.presign('PUT', 'p.bin', { partNumber: '1', uploadId });
    const unnamed = fake.presign('PUT', 'p.bin', { uploadId });
    const empty = fake.presign('PUT', 'p.bin', { partNumber: '', uploadId });
    writeFileSync(join(dir, 'first.txt'), `${unnamed}\n${part1}\n`);
    writeFileSync(join(dir, 'second.txt'), `${part1}\n${unnamed}\n`);
    writeFileSync(join(dir, 'empty.txt'), `${part1}\n${empty}\n`);
    for (const [list, n] of [
      ['first.txt', 1],
      ['second.txt', 2],
      ['empty.txt', 2],
    ] as const) {
      const run = await cli(
        ['--s3-part-urls', join(dir, list), '-T', file.path, '--part-size', '1M', '--parallel', '1'],
        tempDir(),
      ).result;
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`the URL given for part ${n} names no partNumber`);
    }
    expect(fake.objects.size).toBe(0);
    expect([...fake.uploads.get(uploadId)!.parts.keys()]).toEqual([1]);
  });

  it('--s3-part-command that leaves a process behind (`&`): the part goes on once it exits, the process ends', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'j.bin', 1000);
    const { urls } = await presignedUpload(fake, 'j.bin', 1);
    writeFileSync(join(dir, 'url.txt'), urls[0]!);
    const pidFile = join(dir, 'sleep.pid');
    // The background sleep holds the output pipe open: it was waited for, up to the 60 s.
    const command = `cat ${join(dir, 'url.txt')}; sleep 20 & echo $! > ${pidFile}`;
    const asked = Date.now();
    const run = await cli(['--s3-part-command', command, '-T', file.path], tempDir()).result;
    expect(run.code, run.stderr).toBe(0);
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(await goneSoon(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
  });

  it('--resume with the URLs of a new upload of the same object: that upload is sent whole, not resumed', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const state = tempDir();
    const file = randomFile(dir, 'n.bin', 3 * MiB);
    const start = async () => (await presignedUpload(fake, 'n.bin', 0)).uploadId;
    const args = async (uploadId: string) => {
      const urls = [1, 2, 3].map((n) => fake.presign('PUT', 'n.bin', { partNumber: String(n), uploadId }));
      writeFileSync(join(dir, `${uploadId}.txt`), urls.join('\n'));
      const complete = fake.presign('POST', 'n.bin', { uploadId });
      const list = join(dir, `${uploadId}.txt`);
      return ['--s3-part-urls', list, '--s3-complete', complete, '-T', file.path, '--part-size', '1M', '--resume'];
    };
    // The first upload is stopped with part 1 stored; a new one is started and presigned.
    const current: { run?: ReturnType<typeof cli> } = {};
    fake.fault = ({ partNumber }) => {
      if (partNumber !== 2) return undefined;
      setImmediate(() => current.run!.signal('SIGINT'));
      return { hang: true };
    };
    current.run = cli([...(await args(await start())), '--parallel', '1'], state);
    expect((await current.run.result).code).toBe(130);
    fake.fault = () => undefined;
    const second = await cli(await args(await start()), state).result;
    expect(second.code, second.stderr).toBe(0);
    expect(fake.objects.get('n.bin')?.sha256).toBe(file.sha256);
  });

  it('--resume --s3-list over more parts than a ListParts page: the next pages asked for, or, presigned, refused in words', async () => {
    // The fake lists 2 parts a page, as S3 lists 1,000. A first run stores every part and fails to
    // complete (nothing listens there), keeping its session; the second resumes.
    const fake = await startS3Fake({ minPartSize: 0, pageSize: 2 });
    const dir = tempDir();
    const state = tempDir();
    const file = randomFile(dir, 'pages.bin', 5 * MiB);
    const { uploadId, urls } = await presignedUpload(fake, 'pages.bin', 5);
    writeFileSync(join(dir, 'urls.txt'), urls.join('\n'));
    const closed = await startServer((_req, res) => res.end());
    await closed.close();
    const base = ['--s3-part-urls', join(dir, 'urls.txt'), '-T', file.path, '--part-size', '1M', '--resume'];
    const first = await cli([...base, '--s3-complete', `${closed.origin}/complete`], state).result;
    expect(first.code, first.stderr).not.toBe(0);
    const upload = fake.uploads.get(uploadId)!;
    expect(upload.parts.size).toBe(5);
    const complete = fake.presign('POST', 'pages.bin', { uploadId });
    const presignedList = fake.presign('GET', 'pages.bin', { uploadId });
    const refused = await cli([...base, '--s3-complete', complete, '--s3-list', presignedList], state).result;
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('--s3-list: the upload holds more parts than one page of ListParts');
    // A listing URL that is not presigned (a backend that signs for the client) is paged.
    const lists: string[] = [];
    const backend = await startServer((req, res) => {
      const query = new URL(req.url!, 'http://x').searchParams;
      lists.push(query.get('part-number-marker') ?? '');
      const marker = query.get('part-number-marker');
      const signed = fake.presign('GET', 'pages.bin', {
        uploadId,
        ...(marker === null ? {} : { 'part-number-marker': marker }),
      });
      void fetch(signed).then(async (answer) => res.writeHead(answer.status).end(await answer.text()));
    });
    // Cloud Storage's XML API signs with X-Goog-Signature: presigned too.
    const googSigned = await cli(
      [
        ...base,
        '--s3-complete',
        complete,
        '--s3-list',
        `${backend.origin}/list?uploadId=${uploadId}&X-Goog-Signature=ab`,
      ],
      state,
    ).result;
    expect(googSigned.code, googSigned.stderr).toBe(2);
    lists.length = 0;
    const resumed = await cli(
      [...base, '--s3-complete', complete, '--s3-list', `${backend.origin}/list?uploadId=${uploadId}`],
      state,
    ).result;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(lists).toEqual(['', '2', '4']);
    expect([...upload.attempts.values()]).toEqual([1, 1, 1, 1, 1]);
    expect(fake.objects.get('pages.bin')?.sha256).toBe(file.sha256);
    await backend.close();
  });

  it('Ctrl-C without --resume or --s3-abort: the message says the upload was not abandoned', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'o.bin', 2 * MiB);
    const { uploadId, urls } = await presignedUpload(fake, 'o.bin', 2);
    writeFileSync(join(dir, 'urls.txt'), urls.join('\n'));
    const current: { run?: ReturnType<typeof cli> } = {};
    fake.fault = ({ partNumber }) => {
      if (partNumber !== 2) return undefined;
      setImmediate(() => current.run!.signal('SIGINT'));
      return { hang: true };
    };
    const args = ['--s3-part-urls', join(dir, 'urls.txt'), '-T', file.path, '--part-size', '1M', '--parallel', '1'];
    current.run = cli(args, tempDir());
    const run = await current.run.result;
    expect(run.code).toBe(130);
    // Part 1 stays stored: it said "the upload was abandoned".
    expect(run.stderr).toBe(
      'multipart-poster: interrupted; the upload was not abandoned: s3Parts has no abortUrl: the stored parts stay until the upload is aborted\n',
    );
    expect([...fake.uploads.get(uploadId)!.parts.keys()]).toEqual([1]);
  });

  it('Ctrl-C while --s3-part-command runs: exit 130 at once, and every process the command started ends', async () => {
    const dir = tempDir();
    const file = randomFile(dir, 'g.bin', 1000);
    const pidFile = join(dir, 'sleep.pid');
    // The command's own child, which a kill of the shell alone would leave holding the output pipe.
    const command = `sleep 30 & echo $! > ${pidFile}; wait`;
    const run = cli(['--s3-part-command', command, '-T', file.path], tempDir());
    for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    const asked = Date.now();
    run.signal('SIGINT');
    const result = await run.result;
    expect(result.code, result.stderr).toBe(130);
    expect(Date.now() - asked).toBeLessThan(5000);
    expect(await goneSoon(sleeper)).toBe(true);
  });

  it('--resume survives Ctrl-C: exit 130, the session kept; the same command finishes the upload', async () => {
    const server = await startTusServer(tempDir());
    const state = tempDir();
    const file = randomFile(tempDir(), 'e.bin', 4 * MiB);
    const args = ['--tus', server.endpoint, '-T', file.path, '--part-size', '1M', '--resume', '--retry', '2'];
    const current: { run?: ReturnType<typeof cli> } = {};
    let patches = 0;
    server.fault = (req) => {
      if (req.method !== 'PATCH' || ++patches !== 3) return undefined;
      setImmediate(() => current.run!.signal('SIGINT'));
      return { hang: true };
    };
    current.run = cli(args, state);
    const first = await current.run.result;
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toContain('the session is kept');
    server.fault = () => undefined;
    const second = await cli(args, state).result;
    expect(second.code, second.stderr).toBe(0);
    expect(server.log.filter((l) => l.startsWith('POST'))).toHaveLength(1);
    expect(server.sha256(second.stdout.trim())).toBe(file.sha256);
  });

  it('Ctrl-C without --resume abandons the upload (tus termination)', async () => {
    const server = await startTusServer(tempDir());
    const file = randomFile(tempDir(), 'f.bin', 4 * MiB);
    const current: { run?: ReturnType<typeof cli> } = {};
    let patches = 0;
    server.fault = (req) => {
      if (req.method !== 'PATCH' || ++patches !== 2) return undefined;
      setImmediate(() => current.run!.signal('SIGINT'));
      return { hang: true };
    };
    current.run = cli(['--tus', server.endpoint, '-T', file.path, '--part-size', '1M'], tempDir());
    const first = await current.run.result;
    expect(first.code).toBe(130);
    expect(first.stderr).toContain('abandoned');
    const url = server.log.find((l) => l.startsWith('DELETE'));
    expect(url).toBeDefined();
    expect(existsSync(server.fileOf(`http://h${url!.slice(7)}`))).toBe(false);
  });

  it.each([
    [['--tus', 'http://127.0.0.1:9/files'], '-T FILE'],
    [['--tus', 'http://127.0.0.1:9/files', '-T', '-'], 'standard input'],
    [['--tus', 'ftp://h/files', '-T', 'x'], 'http(s) URL'],
    [['--tus', 'http://h/f', '--resumable', 'http://h/u', '-T', 'x'], 'cannot be used together'],
    [['--tus', 'http://h/f', '-T', 'x', '-F', 'a=b'], '--form cannot be used'],
    // Flags a single upload honours and pieces would ignore: refused, never silently dropped.
    ...[
      ['-i'],
      ['--decode'],
      ['--fail-with-body'],
      ['--max-redirs', '3'],
      ['--expect-continue'],
      ['--no-expect-continue'],
      ['--retry-delay', '2'],
      ['--retry-max-time', '10'],
      ['--retry-all-errors'],
      ['--retry-connrefused'],
    ].map((flag): [string[], string] => [
      ['--resumable', 'http://h/u', '-T', 'x', '--retry', '3', ...flag],
      `cannot be used with --resumable`,
    ]),
    [['--part-size', '1M', '-T', 'x', 'http://h/'], 'goes with --tus'],
    [['--tus', 'http://h/f', '-T', 'x', '--part-size', '0'], '--part-size'],
    [['--tus', 'http://h/f', '-T', 'x', '--parallel', '65'], '--parallel'],
    [['--resumable', 'http://h/u', '-T', 'x', '--s3-complete', 'http://h/c'], '--s3-complete goes with'],
  ])('usage error: %j', async (args, message) => {
    const run = await cli(args, tempDir()).result;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('a stdout whose reader is gone (| head -c1): exit 23 in one line, not a crash', async () => {
    const server = await startTusServer(tempDir());
    const file = randomFile(tempDir(), 'h.bin', MiB);
    const run = await cli(['--tus', server.endpoint, '-T', file.path], tempDir(), { stdoutClosed: true }).result;
    expect(run.code, run.stderr).toBe(23);
    expect(run.stderr).toBe('multipart-poster: cannot write stdout: write EPIPE\n');
  });

  it('--s3-part-urls: a line that is not an http(s) URL is named by its line in FILE (exit 2)', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'm.bin', 2 * MiB);
    const part1 = fake.presign('PUT', 'm.bin', { partNumber: '1', uploadId: 'u' });
    writeFileSync(join(dir, 'urls.txt'), `# part URLs\n\n${part1}\n# part 2\nftp://example.com/m.bin\n`);
    const run = await cli(['--s3-part-urls', join(dir, 'urls.txt'), '-T', file.path, '--part-size', '1M'], tempDir())
      .result;
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(
      'line 5 of --s3-part-urls (part 2) takes an http(s) URL, not "ftp://example.com/m.bin"',
    );
  });

  it('--s3-part-urls FIFO nobody writes to: SIGTERM ends the wait (exit 143)', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'urls.fifo');
    execFileSync('mkfifo', [fifo]);
    const file = randomFile(dir, 'k.bin', 1000);
    const run = cli(['--s3-part-urls', fifo, '-T', file.path], tempDir());
    await new Promise((resolve) => setTimeout(resolve, 500));
    run.signal('SIGTERM');
    // Its read blocked the event loop, and with it every signal but SIGKILL.
    const result = await Promise.race([run.result, new Promise((resolve) => setTimeout(resolve, 5000, 'hung'))]);
    expect(result).toMatchObject({ code: 143 });
  });

  it.each([
    [
      'uploads in pieces',
      (file: string, ca: string) => ['--tus', 'https://127.0.0.1:9/files/', '-T', file, '--cacert', ca],
    ],
    ['a single upload', (file: string, ca: string) => ['-F', `f=@${file}`, '--cacert', ca, 'https://127.0.0.1:9/']],
  ])('%s: a --cacert FIFO nobody writes to, SIGTERM ends the wait (exit 143)', async (_what, args) => {
    const dir = tempDir();
    const fifo = join(dir, 'ca.fifo');
    execFileSync('mkfifo', [fifo]);
    const file = randomFile(dir, 'm.bin', 1000);
    const run = cli(args(file.path, fifo), tempDir());
    await new Promise((resolve) => setTimeout(resolve, 500));
    run.signal('SIGTERM');
    // A blocking read of the FIFO would hold the event loop, and with it every signal but SIGKILL.
    const result = await Promise.race([run.result, new Promise((resolve) => setTimeout(resolve, 5000, 'hung'))]);
    expect(result).toMatchObject({ code: 143 });
  });

  it('a --cacert that cannot be read: exit 77, as for a single upload', async () => {
    const file = randomFile(tempDir(), 'l.bin', 1000);
    const missing = join(tempDir(), 'missing-ca.pem');
    const run = await cli(['--tus', 'https://127.0.0.1:9/files/', '-T', file.path, '--cacert', missing], tempDir())
      .result;
    expect(run.code, run.stderr).toBe(77);
    expect(run.stderr).toMatch(/^multipart-poster: cannot read --cacert ".*missing-ca\.pem": ENOENT/);
  });

  it('a missing file: exit 26', async () => {
    const run = await cli(['--tus', 'http://127.0.0.1:9/files', '-T', join(tempDir(), 'missing')], tempDir()).result;
    expect(run.code).toBe(26);
  });
});
