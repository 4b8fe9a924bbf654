import { readdirSync } from 'node:fs';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { MultipartParam, upload } from '../../src/index.js';
import { receive } from '../../src/receiver/index.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { json, startServer } from '../helpers/servers.js';

const dir = tempDir();
const filePath = writeFile(dir, 'loop.bin', bytes(3 * 64 * 1024, 9));
const openDescriptors = () => readdirSync('/proc/self/fd').length;

describe('1,000 uploads leave no descriptor or socket behind', () => {
  it('ok, redirected, refused early and aborted uploads, in a loop', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/redirect') {
        req.resume();
        req.on('end', () => json(res, 307, {}, { location: '/ok' }));
      } else if (req.url === '/refuse') {
        json(res, 413, { error: 'too large' });
      } else if (req.url === '/slow') {
        req.on('data', () => {
          req.pause();
          setTimeout(() => req.resume(), 50);
        });
        req.on('end', () => json(res, 200, {}));
      } else {
        void receive(req).then((report) => json(res, 200, { ok: report.lengthMatches }));
      }
    });
    const agent = new http.Agent({ keepAlive: false });
    await (await upload(`${server.origin}/ok`, { a: 'warm-up' }, { agent })).text();
    await new Promise((r) => setTimeout(r, 100)); // let the warm-up connection finish closing
    const before = openDescriptors();
    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);

    for (let i = 0; i < 1000; i++) {
      const kind = ['ok', 'redirect', 'refuse', 'abort'][i % 4]!;
      const form = { n: String(i), file: await MultipartParam.fromFile('file', filePath) };
      const controller = new AbortController();
      try {
        const response = await upload(`${server.origin}/${kind === 'abort' ? 'slow' : kind}`, form, {
          agent,
          signal: controller.signal,
          blockSize: 64 * 1024,
          onUploadProgress: kind === 'abort' ? () => controller.abort() : undefined,
        });
        if (i % 8 === 2)
          await response.body?.cancel(); // some answers are dropped unread
        else await response.text();
        count(`${kind}:${response.status}`);
      } catch (error) {
        count(`${kind}:${(error as { code: string }).code}`);
      }
    }

    expect(Object.fromEntries(outcomes)).toEqual({
      'ok:200': 250,
      'redirect:200': 250,
      'refuse:413': 250,
      'abort:ERR_ABORTED': 250,
    });
    for (let tries = 0; openDescriptors() > before && tries < 200; tries++) await new Promise((r) => setTimeout(r, 25));
    expect(openDescriptors()).toBeLessThanOrEqual(before);
    expect(Object.keys(agent.sockets)).toEqual([]);
  });
});
