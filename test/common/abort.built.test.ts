// The one abort listener a caller's signal gets (src/common/abort.ts), with the garbage collected
// while the work it would end waits on something nothing else holds: run in a process of its own
// (test/fixtures/abort/collected.mjs, --expose-gc) against the build.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, runProgram } from '../helpers/cli.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';

describe('an abort or a timeout reaches work nothing else holds, after a garbage collection', () => {
  it('spooling (upload, multipartEncode) and uploadParts all settle with the abort', async () => {
    const file = writeFile(tempDir(), 'small.bin', bytes(1024, 3));
    const result = await runProgram(process.execPath, [
      '--expose-gc',
      join(root, 'test', 'fixtures', 'abort', 'collected.mjs'),
      join(root, 'dist', 'index.js'),
      file,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      'upload, spooling, timeout': 'ERR_TIMEOUT',
      'upload, spooling, signal': 'ERR_ABORTED',
      'multipartEncode, spooling, signal': 'aborted by the caller',
      'uploadParts, a partUrl that never settles, signal': 'ERR_ABORTED',
    });
  });
});
