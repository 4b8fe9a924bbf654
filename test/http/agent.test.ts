import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { describe, expect, it } from 'vitest';
import { upload, UploadError, type UploadOptions } from '../../src/index.js';
import { json, startProxy, startServer, tls } from '../helpers/servers.js';

// upload()'s agent may be a function of each hop's URL: the CLI picks a proxy per hop with it (an http
// hop through http_proxy, an https hop through a CONNECT tunnel). Each row ends typed, nothing sent
// where the agent cannot be used.

/** Reads the body and answers with its length; `/redirect?to=URL` answers 307 to URL first. */
const handler = (req: IncomingMessage, res: ServerResponse) => {
  let length = 0;
  req.on('data', (chunk: Buffer) => (length += chunk.length));
  req.on('end', () => {
    const to = new URL(req.url!, 'http://x').searchParams.get('to');
    if (to !== null) json(res, 307, {}, { location: to });
    else json(res, 200, { method: req.method, length, declared: Number(req.headers['content-length']) });
  });
};
const plain = await startServer(handler);
const secure = await startServer(handler, { https: { cert: tls.cert, key: tls.key } });
const proxy = await startProxy();
const toSecure = `${plain.origin}/redirect?to=${encodeURIComponent(secure.url)}`;

const codeOf = (error: unknown) => (error instanceof UploadError ? error.code : `untyped: ${String(error)}`);

describe('agent as a function of the hop', () => {
  it('is called once for each hop, with that hop URL (a copy), and its agent is used', async () => {
    const hops: string[] = [];
    const agents = { 'http:': new http.Agent(), 'https:': new https.Agent({ ca: tls.ca }) };
    const response = await upload(
      toSecure,
      { a: 'x'.repeat(1000) },
      {
        method: 'PUT',
        agent: (url) => {
          hops.push(url.href);
          url.host = 'elsewhere.invalid'; // changing the copy changes nothing
          return agents[url.protocol as 'http:' | 'https:'];
        },
      },
    );
    const report = (await response.json()) as { method: string; length: number; declared: number };
    expect(report.method).toBe('PUT');
    expect(report.length).toBe(report.declared);
    expect(hops).toEqual([toSecure, secure.url]);
    for (const agent of Object.values(agents)) agent.destroy();
  });

  it('picks a proxy per hop: absolute-form for http, a CONNECT tunnel for https', async () => {
    const before = proxy.requests.length;
    const made: Array<HttpProxyAgent<string> | HttpsProxyAgent<string>> = [];
    const response = await upload(
      toSecure,
      { a: 'b' },
      {
        method: 'PUT',
        tls: { ca: tls.ca },
        agent: (url) => {
          const agent = url.protocol === 'https:' ? new HttpsProxyAgent(proxy.url) : new HttpProxyAgent(proxy.url);
          made.push(agent);
          return agent;
        },
      },
    );
    expect(response.status).toBe(200);
    await response.text();
    expect(proxy.requests.slice(before)).toEqual([`PUT ${toSecure}`, `CONNECT ${new URL(secure.url).host}`]);
    for (const agent of made) agent.destroy();
  });

  it("undefined is Node's global agent", async () => {
    const response = await upload(plain.url, { a: 'b' }, { agent: () => undefined });
    expect(response.status).toBe(200);
    await response.text();
  });

  it("a retry of the same hop uses the function's first answer", async () => {
    let calls = 0;
    let requests = 0;
    const server = await startServer((req, res) => {
      req.resume();
      req.on('end', () => json(res, ++requests === 1 ? 503 : 200, {}, { 'retry-after': '0' }));
    });
    const agent = new http.Agent();
    const response = await upload(server.url, { a: 'b' }, { method: 'PUT', agent: () => (calls++, agent) });
    expect(response.status).toBe(200);
    await response.text();
    expect([calls, requests]).toEqual([1, 2]);
    agent.destroy();
  });
});

describe('an agent that cannot serve the hop is a typed error, and nothing is sent', () => {
  const rows: Array<[string, string, UploadOptions['agent'], string]> = [
    ['an https.Agent for an http URL', plain.url, new https.Agent(), 'ERR_INVALID_OPTION'],
    ['an http.Agent for an https URL', secure.url, new http.Agent(), 'ERR_INVALID_OPTION'],
    ['an http.Agent, and a redirect to https', toSecure, new http.Agent(), 'ERR_INVALID_OPTION'],
    ['a function giving the other scheme', plain.url, () => new https.Agent(), 'ERR_INVALID_OPTION'],
    ['a function giving a plain object', plain.url, (() => ({})) as never, 'ERR_INVALID_OPTION'],
    ['a function giving a string', plain.url, (() => 'proxy') as never, 'ERR_INVALID_OPTION'],
    [
      'a function that throws',
      plain.url,
      () => {
        throw new Error('no proxy for you');
      },
      'ERR_CALLBACK_FAILED',
    ],
    ['an object that is no agent', plain.url, { addRequest: 1 } as never, 'ERR_INVALID_OPTION'],
    ['a number', plain.url, 7 as never, 'ERR_INVALID_OPTION'],
  ];
  for (const [label, url, agent, code] of rows) {
    it(label, async () => {
      const error = await upload(url, { a: 'b' }, { agent, tls: { ca: tls.ca }, retry: 0 }).then(
        async (response) => `answered ${response.status}: ${await response.text()}`,
        (e: unknown) => e,
      );
      expect(codeOf(error)).toBe(code);
      expect((error as Error).message.length).toBeGreaterThan(10);
      if (typeof agent === 'object' && agent !== null && 'destroy' in agent) agent.destroy();
    });
  }

  it('the hop that could not be served is named', async () => {
    const error = await upload(toSecure, { a: 'b' }, { agent: new http.Agent() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', url: secure.url });
  });
});
