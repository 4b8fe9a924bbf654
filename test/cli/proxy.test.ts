import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { receive } from '../../src/receiver/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { json, startProxy, startServer, tls } from '../helpers/servers.js';

const dir = tempDir();
const bigPath = writeFile(dir, 'big.bin', bytes(2 * 1024 * 1024, 2));
const caPath = writeFile(dir, 'ca.crt', tls.ca);

/** The built CLI with exactly this environment's proxy variables (none of the test runner's). */
function runWithEnv(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/_proxy$/i.test(name)));
  return runCli(args, { env: { ...base, ...env } });
}

const { url: proxy, requests: asked } = await startProxy();
const receipt = (req: IncomingMessage, res: http.ServerResponse) =>
  void receive(req).then((report) => json(res, 200, { lengthMatches: report.lengthMatches }));
const plain = await startServer(receipt);
const secure = await startServer(receipt, { https: { cert: tls.cert, key: tls.key } });

/** Runs the CLI and returns what the proxy was asked for meanwhile. */
async function through(args: string[], env: Record<string, string> = {}) {
  const before = asked.length;
  const result = await runWithEnv(args, env);
  return { ...result, asked: asked.slice(before) };
}

describe('-x/--proxy and the proxy environment, like curl', () => {
  it('-x sends an http upload through the proxy in absolute-form, a 2 MiB body with Expect intact', async () => {
    const result = await through(['-x', proxy, '-F', `f=@${bigPath}`, plain.url]);
    expect(result).toMatchObject({ code: 0, stderr: '', asked: [`POST ${plain.url}`] });
    expect(JSON.parse(result.stdout)).toEqual({ lengthMatches: true });
    // a proxy without a scheme is http://, as in curl
    expect((await through(['-x', proxy.replace('http://', ''), '-F', 'a=b', plain.url])).asked).toEqual([
      `POST ${plain.url}`,
    ]);
  });

  it('-v names the proxy and the URL without their passwords', async () => {
    const withPassword = proxy.replace('http://', 'http://puser:proxy-secret@');
    const target = plain.url.replace('http://', 'http://tuser:target-secret@');
    const result = await through(['-v', '-x', withPassword, '-F', 'a=b', target]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`* via proxy ${proxy.replace('http://', 'http://***@')}`);
    expect(result.stderr).toContain(`> POST ${plain.url.replace('http://', 'http://***@')}`);
    expect(result.stderr).not.toMatch(/secret/);
  });

  it("-v and the error name a presigned URL without its signature's value", async () => {
    const signed = `${plain.url}?X-Amz-Credential=AKIA&X-Amz-Signature=sig-secret`;
    const sent = await through(['-v', '-F', 'a=b', signed]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stderr).toContain(`> POST ${plain.url}?X-Amz-Credential=***&X-Amz-Signature=***`);
    const refused = await through(['-v', '-F', 'a=b', 'http://127.0.0.1:1/x?sig=sig-secret']);
    expect(refused.code).toBe(7);
    expect(refused.stderr).toContain('sig=***');
    expect(`${sent.stderr}${refused.stderr}`).not.toMatch(/secret/);
  });

  it('https goes through a CONNECT tunnel', async () => {
    const result = await through(['-x', proxy, '--cacert', caPath, '-F', `f=@${bigPath}`, secure.url]);
    expect(result).toMatchObject({ code: 0, asked: [`CONNECT ${new URL(secure.url).host}`] });
    expect(JSON.parse(result.stdout)).toEqual({ lengthMatches: true });
  });

  it.each([
    [{ http_proxy: proxy }, true],
    [{ HTTP_PROXY: proxy }, true],
    [{ all_proxy: proxy }, true],
    [{ https_proxy: proxy }, false], // for https URLs only
    [{ http_proxy: proxy, NO_PROXY: '127.0.0.1' }, false],
    [{ http_proxy: proxy, no_proxy: 'example.com, 127.0.0.1' }, false],
    [{ http_proxy: proxy, no_proxy: '*' }, false],
    [{ http_proxy: proxy, no_proxy: 'example.com' }, true],
  ])('environment %j: through the proxy %s', async (env, proxied) => {
    const result = await through(['-F', 'a=b', plain.url], env);
    expect(result.code).toBe(0);
    expect(result.asked).toEqual(proxied ? [`POST ${plain.url}`] : []);
  });

  it('NO_PROXY applies to -x too, and -x "" turns the environment\'s proxy off', async () => {
    expect((await through(['-x', proxy, '-F', 'a=b', plain.url], { NO_PROXY: '127.0.0.1' })).asked).toEqual([]);
    expect((await through(['-x', '', '-F', 'a=b', plain.url], { http_proxy: proxy })).asked).toEqual([]);
  });

  it('a bad proxy is a usage error (2); a proxy host that does not resolve is exit 5; a refused one 7', async () => {
    expect(await runWithEnv(['-x', 'ftp://127.0.0.1:1', '-F', 'a=b', plain.url])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('-x takes an http:// or https:// proxy'),
    });
    expect(await runWithEnv(['-x', 'http://[bad', '-F', 'a=b', plain.url])).toMatchObject({ code: 2 });
    expect(await runWithEnv(['-F', 'a=b', plain.url], { http_proxy: 'socks5://127.0.0.1:1' })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('the proxy in the environment'),
    });
    expect(await runWithEnv(['-x', 'http://no-such-proxy.invalid:3128', '-F', 'a=b', plain.url])).toMatchObject({
      code: 5,
      stderr: 'multipart-poster: could not resolve proxy no-such-proxy.invalid\n',
    });
    const port = await new Promise<number>((resolve) => {
      const probe = http.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    expect((await runWithEnv(['-x', `http://127.0.0.1:${port}`, '-F', 'a=b', plain.url])).code).toBe(7);
  });
});

/** Servers that redirect (307, the body sent again) to the other scheme's receipt server. */
const redirect = (to: string) => (req: IncomingMessage, res: http.ServerResponse) => {
  req.resume();
  req.on('end', () => json(res, 307, { redirected: true }, { location: to }));
};
const plainToSecure = await startServer(redirect(secure.url));
const secureToPlain = await startServer(redirect(plain.url), { https: { cert: tls.cert, key: tls.key } });

describe('the proxy is chosen again for each hop, as curl does', () => {
  it('-x with -L: an https hop after a redirect goes through a CONNECT tunnel, never in clear text', async () => {
    const result = await through(['-L', '-x', proxy, '--cacert', caPath, '-F', `f=@${bigPath}`, plainToSecure.url]);
    expect(result.asked).toEqual([`POST ${plainToSecure.url}`, `CONNECT ${new URL(secure.url).host}`]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({ lengthMatches: true });
  });

  it('only https_proxy set: the http hop goes direct, the https hop it leads to through the proxy', async () => {
    const result = await through(['-L', '--cacert', caPath, '-F', 'a=b', plainToSecure.url], { https_proxy: proxy });
    expect(result.asked).toEqual([`CONNECT ${new URL(secure.url).host}`]);
    expect(result).toMatchObject({ code: 0, stdout: '{"lengthMatches":true}' });
  });

  it('only http_proxy set: an https URL goes direct, the http hop it leads to through the proxy', async () => {
    const result = await through(['-L', '--cacert', caPath, '-F', 'a=b', secureToPlain.url], { http_proxy: proxy });
    expect(result.asked).toEqual([`POST ${plain.url}`]);
    expect(result).toMatchObject({ code: 0, stdout: '{"lengthMatches":true}' });
  });

  it('NO_PROXY listing the host a redirect leads to: that hop goes direct', async () => {
    const viaName = plainToSecure.url.replace('127.0.0.1', 'localhost');
    const result = await through(['-L', '-x', proxy, '--cacert', caPath, '-F', 'a=b', viaName], {
      NO_PROXY: '127.0.0.1',
    });
    expect(result.asked).toEqual([`POST ${viaName}`]);
    expect(result).toMatchObject({ code: 0, stdout: '{"lengthMatches":true}' });
  });
});

describe('a bad proxy in the environment for a later hop', () => {
  it('is the usage error it would be for the first hop (exit 2), reported when the redirect needs it', async () => {
    const result = await through(['-L', '--cacert', caPath, '-F', 'a=b', plainToSecure.url], {
      https_proxy: 'socks5://127.0.0.1:1080',
    });
    expect(result).toMatchObject({
      code: 2,
      stderr:
        'multipart-poster: the proxy in the environment takes an http:// or https:// proxy, not socks5://\nTry multipart-poster --help\n',
    });
    expect(result.asked).toEqual([]);
  });
});
