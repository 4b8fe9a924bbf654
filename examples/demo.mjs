// npm run demo: the main job on an embedded default, no outside server needed.
// Starts `multipart-poster serve` on 127.0.0.1 in the background, uploads the
// fixtures/files and a few fields to it with the CLI (progress bar on stderr),
// prints the server's report, and checks it against the files on disk.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const fixtures = join(root, 'fixtures', 'files');
const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

// A larger generated file, so the progress bar has something to show.
const scratch = mkdtempSync(join(tmpdir(), 'multipart-poster-demo-'));
const sample = join(scratch, 'sample-256MiB.bin');
const block = Buffer.alloc(1024 * 1024);
for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 0xff;
const fd = openSync(sample, 'w');
for (let i = 0; i < 256; i++) writeSync(fd, block.fill(i, 0, 1));
closeSync(fd);

const server = spawn(process.execPath, [cli, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
let serverLog = ''; // shown after the upload, so it does not cut into the progress bar
server.stderr.on('data', (chunk) => (serverLog += chunk));
const url = await new Promise((resolve, reject) => {
  server.stdout.once('data', (chunk) => resolve(/listening on (\S+)/.exec(chunk.toString())[1]));
  server.once('exit', (code) => reject(new Error(`the receiver exited with ${code}`)));
});
console.log(`receiver: multipart-poster serve, listening on ${url}`);

const files = [
  ...readdirSync(fixtures)
    .sort()
    .map((name) => join(fixtures, name)),
  sample,
];
const args = [
  `${url}upload?format=json`,
  '--progress',
  '-F',
  'title=multipart-poster demo',
  '-F',
  'description=Uploaded with the CLI, streamed with an exact Content-Length ☃',
  ...files.map((path) => ['-F', `file=@${path}`]).flat(),
];
console.log(
  `upload:   multipart-poster ${url}upload -F title=... -F description=... ${files.map(() => '-F file=@...').join(' ')}`,
);
const upload = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
let output = '';
upload.stdout.on('data', (chunk) => (output += chunk));
const code = await new Promise((resolve) => upload.on('close', resolve));
server.kill('SIGTERM');
const expected = new Map(files.map((path) => [path.split('/').pop(), sha256(path)]));
rmSync(scratch, { recursive: true, force: true });
if (code !== 0) {
  console.error(`the upload failed (exit ${code})`);
  process.exit(1);
}

const report = JSON.parse(output);
process.stdout.write(`receiver log: ${serverLog}`);
console.log(
  `\nthe receiver got: ${report.method} ${report.path}, ${report.parts.length} parts, ${report.bytesReceived} bytes, ${report.chunked ? 'chunked' : 'not chunked'}`,
);
console.log(`${'name'.padEnd(12)} ${'filename'.padEnd(22)} ${'type'.padEnd(26)} ${'size'.padStart(10)}  sha256`);
let allMatch = true;
for (const part of report.parts) {
  const same = part.filename === undefined || expected.get(part.filename) === part.sha256;
  allMatch &&= same;
  console.log(
    `${part.name.padEnd(12)} ${(part.filename ?? '-').padEnd(22)} ${(part.type ?? '-').padEnd(26)} ${String(part.size).padStart(10)}  ${part.sha256.slice(0, 16)}…${same ? '' : '  DIFFERS from the file on disk'}`,
  );
}
console.log(
  `\nContent-Length ${report.contentLength} matched the ${report.bytesReceived} bytes received: ${report.lengthMatches ? 'yes' : 'NO'}`,
);
console.log(`every file's SHA-256 matches the file on disk: ${allMatch ? 'yes' : 'NO'}`);
process.exitCode = report.lengthMatches && allMatch && report.parts.length === files.length + 2 ? 0 : 1;
