#!/usr/bin/env node
// Runs the form-data package's own test suite, unchanged, against multipart-poster/form-data (or,
// with --against form-data, against the real package, for a baseline on this machine).
//
//   node test/form-data/upstream-suite.mjs FORM_DATA_CHECKOUT DEPS_DIR [--against ours|form-data] [--only NAME,...]
//
// FORM_DATA_CHECKOUT: a copy of form-data's repository (its test/ folder is used: common.js,
// static.js, fixture/, integration/test-*.js). DEPS_DIR: a folder whose node_modules holds what those
// tests require (fake, formidable 1, request 2.87, mime-types 2, hasown, semver, js-randomness-predictor).
// Neither is part of this repository: the suite is read where it lies and copied to a temporary folder,
// where `lib/form_data.js` (what every test requires) is one line that exports the FormData under test.
// Each test file runs in its own process, as form-data's runner does, with its static file server
// (test/static.js) running beside; a file passes when its process exits 0 within the time limit.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const FILE_TIMEOUT_MS = 30_000;
const root = resolve(import.meta.dirname, '..', '..');
const args = process.argv.slice(2);
const option = (name) => args[args.indexOf(name) + 1];
const [checkout, depsDir] = args.filter((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
const against = args.includes('--against') ? option('--against') : 'ours';
const only = args.includes('--only') ? option('--only').split(',') : undefined;
if (!checkout || !depsDir || !['ours', 'form-data'].includes(against)) {
  console.error(
    'usage: node test/form-data/upstream-suite.mjs FORM_DATA_CHECKOUT DEPS_DIR [--against ours|form-data] [--only NAME,...]',
  );
  process.exit(2);
}

const subject =
  against === 'ours'
    ? join(root, 'dist', 'form-data.cjs')
    : createRequire(join(root, 'package.json')).resolve('form-data');
if (!existsSync(subject)) {
  console.error(`${subject} is missing: build first (npx tsup)`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'form-data-suite-'));
const children = new Set();
const cleanUp = () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
};
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));

cpSync(join(resolve(checkout), 'test'), join(work, 'test'), { recursive: true });
mkdirSync(join(work, 'lib'));
writeFileSync(join(work, 'lib', 'form_data.js'), `module.exports = require(${JSON.stringify(subject)});\n`);
symlinkSync(join(resolve(depsDir), 'node_modules'), join(work, 'node_modules'), 'dir');

/** Runs `node args` in the work folder; resolves to its exit code (or 'timeout') and output. */
function run(nodeArgs, timeoutMs) {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, nodeArgs, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolveRun({ code: signal === 'SIGKILL' ? 'timeout' : code, output });
    });
  });
}

// The static file server the suite's tests fetch remote files from, as form-data's test/run.js starts it.
const server = spawn(process.execPath, ['-e', "require('./test/static')(() => console.log('ready'))"], {
  cwd: work,
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.add(server);
await new Promise((ready, fail) => {
  server.stdout.once('data', ready);
  server.once('exit', (code) => fail(new Error(`test/static.js exited ${code}`)));
});

const files = readdirSync(join(work, 'test', 'integration'))
  .filter((name) => /^test-.*\.js$/.test(name) && (only === undefined || only.some((wanted) => name.includes(wanted))))
  .sort();
const results = [];
for (const name of files) {
  const { code, output } = await run([join('test', 'integration', name)], FILE_TIMEOUT_MS);
  results.push({ name, passed: code === 0, code, output });
  console.log(`${code === 0 ? 'pass' : 'FAIL'}  ${name}${code === 0 ? '' : `  (exit ${code})`}`);
  if (code !== 0)
    console.log(
      output
        .trim()
        .split('\n')
        .slice(0, 12)
        .map((line) => `      ${line}`)
        .join('\n'),
    );
}
server.kill();
const passed = results.filter((result) => result.passed).length;
console.log(
  `\n${passed} of ${results.length} files pass against ${against === 'ours' ? 'multipart-poster/form-data' : 'form-data'}`,
);
process.exitCode = passed === results.length ? 0 : 1;
