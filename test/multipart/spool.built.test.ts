import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';

// Runs a program against the built package (dist/) in a child process, so it needs the build.
const root = join(import.meta.dirname, '..', '..');

describe('spool in a process that exits', () => {
  it('the temporary file is removed when the process exits without dispose()', async () => {
    const dir = tempDir();
    const script = `
      import { multipartEncode, MultipartParam } from ${JSON.stringify(join(root, 'dist', 'index.js'))};
      import { readdirSync } from 'node:fs';
      async function* big() { for (let i = 0; i < 40; i++) yield Buffer.alloc(100_000, i); }
      const form = await multipartEncode({ f: new MultipartParam('f', { fileobj: big() }) }, { spool: { dir: ${JSON.stringify(dir)} } });
      console.log(readdirSync(${JSON.stringify(dir)}).length, form.contentLength > 4_000_000);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    expect(stdout.trim()).toBe('1 true');
    expect(readdirSync(dir)).toEqual([]);
  });
});
