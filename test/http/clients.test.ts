import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import axios from 'axios';
import got from 'got';
import { request as undiciRequest } from 'undici';
import { describe, expect, it } from 'vitest';
import { multipartEncode, MultipartParam, upload, type EncodedForm } from '../../src/index.js';
import { receive, type ReceiptReport } from '../../src/receiver/index.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { json, startServer, tls } from '../helpers/servers.js';

const dir = tempDir();
const big = bytes(3 * 1024 * 1024 + 17, 3);
const bigPath = writeFile(dir, 'big.bin', big);
const small = Buffer.from('small file ☃\n');
const smallPath = writeFile(dir, 'small.txt', small);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const receiver = (req: http.IncomingMessage, res: http.ServerResponse) =>
  receive(req).then(
    (report) => json(res, 200, report),
    (error: Error) => json(res, 400, { error: error.message }),
  );
const plain = await startServer(receiver);
const secure = await startServer(receiver, { https: { cert: tls.cert, key: tls.key } });

async function form(): Promise<EncodedForm> {
  return multipartEncode([
    ['title', 'every client'],
    ['note', 'ünïcødé ☃'],
    await MultipartParam.fromFile('big', bigPath),
    await MultipartParam.fromFile('small', smallPath),
  ]);
}

function expectReceived(report: ReceiptReport, sent: EncodedForm): void {
  expect(report.chunked).toBe(false);
  expect(report.contentLength).toBe(sent.contentLength);
  expect(report.bytesReceived).toBe(sent.contentLength);
  expect(report.lengthMatches).toBe(true);
  expect(
    report.parts.map(({ name, filename, type, size, sha256: hash }) => ({ name, filename, type, size, hash })),
  ).toEqual([
    { name: 'title', filename: undefined, type: null, size: 12, hash: sha256(Buffer.from('every client')) },
    {
      name: 'note',
      filename: undefined,
      type: null,
      size: Buffer.byteLength('ünïcødé ☃'),
      hash: sha256(Buffer.from('ünïcødé ☃')),
    },
    { name: 'big', filename: 'big.bin', type: 'application/octet-stream', size: big.length, hash: sha256(big) },
    { name: 'small', filename: 'small.txt', type: 'text/plain', size: small.length, hash: sha256(small) },
  ]);
}

async function viaNodeRequest(
  transport: typeof http | typeof https,
  url: string,
  sent: EncodedForm,
  extra: https.RequestOptions = {},
) {
  const req = transport.request(url, { method: 'POST', headers: sent.headers, ...extra });
  const response = new Promise<http.IncomingMessage>((resolve, reject) =>
    req.on('response', resolve).on('error', reject),
  );
  await pipeline(Readable.from(sent.body), req);
  const res = await response;
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString()) as ReceiptReport;
}

describe('the encoded body goes out with an exact Content-Length through every common client', () => {
  it('global fetch (duplex: half)', async () => {
    const sent = await form();
    const response = await fetch(plain.url, {
      method: 'POST',
      body: sent.body,
      headers: sent.headers,
      duplex: 'half',
    } as RequestInit);
    expectReceived((await response.json()) as ReceiptReport, sent);
  });

  it('undici.request', async () => {
    const sent = await form();
    const { body } = await undiciRequest(plain.url, {
      method: 'POST',
      body: Readable.from(sent.body),
      headers: sent.headers,
    });
    expectReceived((await body.json()) as ReceiptReport, sent);
  });

  it('node:http request with pipeline', async () => {
    const sent = await form();
    expectReceived(await viaNodeRequest(http, plain.url, sent), sent);
  });

  it('node:https request with pipeline and a test CA', async () => {
    const sent = await form();
    expectReceived(await viaNodeRequest(https, secure.url, sent, { ca: tls.ca }), sent);
  });

  it('got', async () => {
    const sent = await form();
    const report = await got
      .post(plain.url, { body: Readable.from(sent.body), headers: sent.headers })
      .json<ReceiptReport>();
    expectReceived(report, sent);
  });

  it('axios', async () => {
    const sent = await form();
    const response = await axios.post<ReceiptReport>(plain.url, Readable.from(sent.body), {
      headers: sent.headers,
      maxBodyLength: Infinity,
    });
    expectReceived(response.data, sent);
  });

  it('upload() over http and https, re-sending the same encoded body', async () => {
    const sent = await form();
    expectReceived((await (await upload(plain.url, sent)).json()) as ReceiptReport, sent);
    expectReceived((await (await upload(secure.url, sent, { tls: { ca: tls.ca } })).json()) as ReceiptReport, sent);
  });

  it('upload() refuses an untrusted certificate unless told otherwise', async () => {
    await expect(upload(secure.url, { a: 'b' })).rejects.toMatchObject({ code: 'ERR_REQUEST_FAILED' });
    const insecure = await upload(secure.url, { a: 'b' }, { tls: { rejectUnauthorized: false } });
    expect(insecure.status).toBe(200);
    await insecure.body?.cancel();
  });

  it('upload() presents a client certificate', async () => {
    const mutual = await startServer(receiver, {
      https: { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true },
    });
    await expect(upload(mutual.url, { a: 'b' }, { tls: { ca: tls.ca } })).rejects.toMatchObject({
      code: 'ERR_REQUEST_FAILED',
    });
    const response = await upload(
      mutual.url,
      { a: 'b' },
      { tls: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } },
    );
    expect(response.status).toBe(200);
    expect((await response.json()) as ReceiptReport).toMatchObject({ lengthMatches: true });
  });
});
