import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliPath } from '../helpers/cli.js';
import { tempDir } from '../helpers/files.js';

// The CLI's rows of a hostile review of round 2 (its encoder rows are in
// test/multipart/encoded-body.hostile.test.ts, its upload and spool rows in test/http and
// test/multipart): for the CLI's own tests to take over.
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

  it.each([[['-F', 'f=@-']], [['-F', 'f=<-']], [['--data-binary', '@-']]])(
    '%j with --timeout: a stdin that never ends exits 28',
    async (args) => {
      const run = cli([...args, '--timeout', '0.3', '--dry-run']);
      run.child.stdin.write('some bytes, then nothing more');
      const timer = setTimeout(() => run.child.kill('SIGKILL'), 10_000);
      const { code } = await run.done;
      clearTimeout(timer);
      run.child.stdin.destroy();
      expect(code).toBe(28);
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
});
