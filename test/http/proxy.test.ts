import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { describe, expect, it } from 'vitest';
import { MultipartParam, upload } from '../../src/index.js';
import { receive } from '../../src/receiver/index.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { rawServer } from '../helpers/raw-server.js';
import { json, startProxy, startServer, tls } from '../helpers/servers.js';

const dir = tempDir();
const MiB = 1024 * 1024;
const payload = bytes(3 * MiB, 21);
const payloadPath = writeFile(dir, 'payload.bin', payload);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Answers with the receipt: what arrived, its length against Content-Length, each part's SHA-256. */
const answer = (req: IncomingMessage, res: ServerResponse) => {
  void receive(req).then(
    (report) => json(res, 200, report),
    (error: Error) => json(res, 400, { error: error.message }),
  );
};
const plain = await startServer(answer);
const secure = await startServer(answer, { https: { cert: tls.cert, key: tls.key } });
const proxy = await startProxy();

describe('upload() through a proxy agent', () => {
  for (const expectContinue of [true, false]) {
    it(`http, absolute-form, 3 MiB ${expectContinue ? 'with' : 'without'} Expect: 100-continue: one head, every byte`, async () => {
      const before = proxy.requests.length;
      const agent = new HttpProxyAgent(proxy.url);
      const response = await upload(
        plain.url,
        { note: 'via proxy', file: await MultipartParam.fromFile('file', payloadPath) },
        { agent, expectContinue, timeout: 20_000 },
      );
      expect(response.status).toBe(200);
      const report = (await response.json()) as { lengthMatches: boolean; parts: Array<{ sha256: string }> };
      expect(report.lengthMatches).toBe(true);
      expect(report.parts[1]!.sha256).toBe(sha256(payload));
      expect(proxy.requests.slice(before)).toEqual([`POST ${plain.url}`]);
      agent.destroy();
    });

    it(`https, through CONNECT, 3 MiB ${expectContinue ? 'with' : 'without'} Expect: 100-continue`, async () => {
      const before = proxy.requests.length;
      const agent = new HttpsProxyAgent(proxy.url);
      const response = await upload(
        secure.url,
        { file: await MultipartParam.fromFile('file', payloadPath) },
        { agent, expectContinue, tls: { ca: tls.ca }, timeout: 20_000 },
      );
      expect(response.status).toBe(200);
      const report = (await response.json()) as { lengthMatches: boolean; parts: Array<{ sha256: string }> };
      expect(report.lengthMatches).toBe(true);
      expect(report.parts[0]!.sha256).toBe(sha256(payload));
      expect(proxy.requests.slice(before)).toEqual([`CONNECT ${new URL(secure.url).host}`]);
      agent.destroy();
    });
  }

  it('an early answer and a retry go through the proxy too', async () => {
    let calls = 0;
    const flaky = await startServer((req, res) => {
      calls++;
      if (calls === 1) return json(res, 503, {}); // before the body: Expect saves sending it
      answer(req, res);
    });
    const agent = new HttpProxyAgent(proxy.url);
    const response = await upload(
      flaky.url,
      { file: await MultipartParam.fromFile('file', payloadPath) },
      { agent, method: 'PUT', retry: { backoff: 1 }, timeout: 20_000 },
    );
    expect(response.status).toBe(200);
    expect(((await response.json()) as { lengthMatches: boolean }).lengthMatches).toBe(true);
    expect(calls).toBe(2);
    agent.destroy();
  });

  it.each([407, 403, 502])(
    "a CONNECT answered %i is a failed request over HTTP/1.1, as over HTTP/2: never the proxy answer as the origin's",
    async (status) => {
      const refusing = await rawServer((socket) =>
        socket.end(`HTTP/1.1 ${status} No\r\nProxy-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n`),
      );
      const agent = new HttpsProxyAgent(`http://127.0.0.1:${refusing.port}`);
      const error = await upload(secure.url, { a: 'b' }, { agent, tls: { ca: tls.ca }, timeout: 5000 }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'ERR_REQUEST_FAILED', cause: { code: 'ERR_PROXY_CONNECT' } });
      expect((error as Error).message).toContain(`the proxy answered ${status} to CONNECT`);
      agent.destroy();
    },
  );
});
