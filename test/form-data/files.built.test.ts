// 10,000 fs.createReadStream()s under `ulimit -n 256`, through the built package in a child process:
// form-data holds every file open from append() and fails with EMFILE; the drop-in closes them and
// opens one file at a time when its part is reached.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';

const root = join(import.meta.dirname, '..', '..');
const FILES = 10_000;

/** Runs a CommonJS script with `require(SUBJECT)` under `ulimit -n 256`; resolves to its output. */
function underUlimit(dir: string, subject: string, script: string): { code: number; output: string } {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.cjs`);
  writeFileSync(file, script.replaceAll('SUBJECT', JSON.stringify(subject)));
  try {
    const output = execFileSync(
      'sh',
      ['-c', `ulimit -n 256 && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(file)}`],
      {
        encoding: 'utf8',
        timeout: 120_000,
        killSignal: 'SIGKILL',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return { code: 0, output };
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    return { code: e.status ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

// Appends 10,000 fs.createReadStream()s in one go (as form-data asks: in the tick they are made), then
// pipes the form to a sink, sampling the most descriptors open under the folder every millisecond.
const script = (many: string) => `
  const fs = require('fs');
  const { Writable } = require('stream');
  const FormData = require(SUBJECT);
  const form = new FormData();
  for (let i = 0; i < ${FILES}; i++) form.append('f' + i, fs.createReadStream(${JSON.stringify(many)} + '/' + i + '.txt'));
  // Listing /proc/self/fd needs a descriptor too: while the caller's 10,000 opens are in flight there may be none.
  const openNow = () => {
    try {
      return fs.readdirSync('/proc/self/fd').filter((fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd).startsWith(${JSON.stringify(many)}); } catch { return false; } }).length;
    } catch { return 0; }
  };
  let most = openNow();
  const timer = setInterval(() => (most = Math.max(most, openNow())), 1); // from append() to the end
  form.getLength((error, length) => {
    if (error) { console.log(JSON.stringify({ error: String(error.code || error.message || error) })); process.exit(3); }
    let bytes = 0;
    const sink = new Writable({ write(chunk, _e, cb) { bytes += chunk.length; most = Math.max(most, openNow()); cb(); } });
    form.on('error', (error) => { console.log(JSON.stringify({ error: String(error.code || error.message), cause: String(error.cause && error.cause.code) })); process.exit(4); });
    sink.on('finish', () => { clearInterval(timer); console.log(JSON.stringify({ bytes, length, most, after: openNow() })); });
    form.pipe(sink);
  });
`;

describe('10,000 fs.createReadStream()s under ulimit -n 256', () => {
  const dir = tempDir();
  const many = join(dir, 'many');
  mkdirSync(many);
  for (let i = 0; i < FILES; i++) writeFileSync(join(many, `${i}.txt`), `file number ${i}\n`);

  it('are sent whole by the drop-in, with at most one file open from append() to the end', () => {
    const { code, output } = underUlimit(dir, join(root, 'dist', 'form-data.cjs'), script(many));
    expect({ code, output }).toMatchObject({ code: 0 });
    const result = JSON.parse(output) as { bytes: number; length: number; most: number; after: number };
    expect(result.bytes).toBe(result.length);
    expect(result.most).toBeLessThanOrEqual(1);
    expect(result.after).toBe(0);
  });

  it('fail with EMFILE through form-data 4.0.6 (the reason for the drop-in)', () => {
    const { code, output } = underUlimit(dir, createRequire(import.meta.url).resolve('form-data'), script(many));
    expect(code).not.toBe(0);
    expect(output).toContain('EMFILE');
  });
});
