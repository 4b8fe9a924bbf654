import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/cli.js';

describe('npm run demo', () => {
  it('uploads the fixtures through the CLI, then with the library, to serve and finds every byte and hash in place', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(root, 'examples', 'demo.mjs')], {
      cwd: root,
    });
    expect(stdout).toMatch(/the receiver got: POST \/upload\?format=json, 7 parts, \d+ bytes, not chunked/);
    expect(stdout).toMatch(/Content-Length (\d+) matched the \1 bytes received: yes/);
    expect(stdout).toContain("every file's SHA-256 matches the file on disk: yes");
    for (const name of ['data.json', 'hello.txt', 'pixels.png', 'unicode-ünïcødé.txt', 'sample-256MiB.bin'])
      expect(stdout).toContain(name);
    expect(stderr).toMatch(/upload 100% {2}256\.0 MiB \/ 256\.0 MiB/); // progress, forced on in a pipe
    // The library's own lines, shown and then run as shown, sending the large file again.
    expect(stdout).toContain("import { upload, MultipartParam } from 'multipart-poster';");
    expect(stdout).toContain("file: await MultipartParam.fromFile('file', path),");
    expect(stdout).toMatch(
      /upload\(\) got: 2 parts, \d+ bytes, not chunked, Content-Length matched: yes, the file's SHA-256 matches: yes/,
    );
    expect(stderr).toMatch(/upload\(\) (\d+) \/ \1 bytes/);
  });
});
