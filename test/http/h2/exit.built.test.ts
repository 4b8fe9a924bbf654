import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { receive, startH2Server } from '../../helpers/h2.js';

const server = await startH2Server(receive);

describe('a process that uploads over HTTP/2 is free to exit', () => {
  it('after the upload, no socket keeps the event loop alive (the session is unref’d while idle)', async () => {
    const child = join(import.meta.dirname, 'exit-child.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [child, server.url], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({ status: 200, handles: [] });
  });
});
