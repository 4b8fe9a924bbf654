// npm run demo: the main job on an embedded default, no outside server needed.
// Starts `multipart-poster serve` on 127.0.0.1 in the background, uploads the
// fixtures/files and a few fields to it with the CLI (progress bar on stderr),
// prints the server's report, and checks it against the files on disk; then
// sends the large file again with the library's own few lines, shown as they run.
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
const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
let output = '';
child.stdout.on('data', (chunk) => (output += chunk));
const code = await new Promise((resolve) => child.on('close', resolve));
const expected = new Map(files.map((path) => [path.split('/').pop(), sha256(path)]));
const cleanUp = () => {
  server.kill('SIGTERM');
  rmSync(scratch, { recursive: true, force: true });
};
if (code !== 0) {
  cleanUp();
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
const cliOk = report.lengthMatches && allMatch && report.parts.length === files.length + 2;

// The same kind of upload from a program: the lines a user writes, printed, then run as printed
// (against the build in dist/, which is what `import 'multipart-poster'` loads).
const libraryLines = `const response = await upload(url, {
  title: 'multipart-poster demo, from the library',
  file: await MultipartParam.fromFile('file', path),
}, { onUploadProgress: (loaded, total) => process.stderr.write(\`\\rupload() \${loaded} / \${total} bytes\`) });
return response.json();`;
console.log(`\nthe same from a program, with the library (url and path as above):\n`);
console.log(`import { upload, MultipartParam } from 'multipart-poster';`);
console.log(`${libraryLines.replace('return ', 'const report = await ')}\n`);
let library;
try {
  const { upload, MultipartParam } = await import(join(root, 'dist', 'index.js'));
  const run = new (async () => {}).constructor('upload', 'MultipartParam', 'url', 'path', libraryLines);
  library = await run(upload, MultipartParam, `${url}upload?format=json`, sample);
  process.stderr.write('\n');
} finally {
  cleanUp();
}
const [libraryFile] = library.parts.filter((part) => part.filename !== undefined);
const librarySame = libraryFile?.sha256 === expected.get('sample-256MiB.bin');
console.log(
  `upload() got: ${library.parts.length} parts, ${library.bytesReceived} bytes, ${library.chunked ? 'chunked' : 'not chunked'}, ` +
    `Content-Length matched: ${library.lengthMatches ? 'yes' : 'NO'}, the file's SHA-256 matches: ${librarySame ? 'yes' : 'NO'}`,
);
process.exitCode = cliOk && library.lengthMatches && library.parts.length === 2 && librarySame ? 0 : 1;
