// The drop-in as the body of real clients, against a real receiver on 127.0.0.1 that parses every
// body with busboy: axios (node adapter), got, node-fetch 2, superagent, and upload().
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import axios from 'axios';
import OriginalFormData from 'form-data';
import got from 'got';
import { describe, expect, it } from 'vitest';
import FormData from '../../src/form-data/index.js';
import { upload } from '../../src/index.js';
import { bytes, tempDir, writeFile } from '../helpers/files.js';
import { json, startServer } from '../helpers/servers.js';
import { receive, sha256, startReceiver, type Receipt } from './helpers.js';

const require = createRequire(import.meta.url);
type NodeFetch = (
  url: string,
  init: { method: string; body: unknown; headers?: Record<string, string> },
) => Promise<{ status: number; json(): Promise<unknown> }>;
const fetch2 = require('node-fetch') as NodeFetch;
type SuperagentRequest = PromiseLike<{ body: Receipt }> & {
  send(data: unknown): SuperagentRequest;
  set(headers: Record<string, unknown>): SuperagentRequest;
};
const superagent = require('superagent') as { post(url: string): SuperagentRequest };

const receiver = await startReceiver();
const dir = tempDir();
const file = writeFile(dir, 'photo.jpg', bytes(300_000, 11));

function makeForm(): FormData {
  const form = new FormData();
  form.append('title', 'holiday');
  form.append('photo', createReadStream(file));
  form.append('raw', Buffer.from([0, 1, 2]), 'raw.bin');
  return form;
}

const expectedParts = [
  { name: 'title', text: 'holiday' },
  { name: 'photo', filename: 'photo.jpg', type: 'image/jpeg', size: 300_000, sha256: sha256(bytes(300_000, 11)) },
  { name: 'raw', filename: 'raw.bin', type: 'application/octet-stream', size: 3 },
];

/** 307 to the receiver the first time a path is asked for, then the receipt. */
async function redirectingOnce() {
  let redirected = false;
  return startServer((req, res) => {
    if (!redirected) {
      redirected = true;
      req.resume().on('end', () => res.writeHead(307, { location: req.url ?? '/' }).end());
      return;
    }
    void receive(req).then((receipt) => json(res, 200, receipt));
  });
}

describe('axios (node adapter): headers from getHeaders(), length from getLength()', () => {
  it('posts the form with its Content-Length', async () => {
    const form = makeForm();
    const { data } = await axios.post<Receipt>(receiver.url, form);
    expect(data).toMatchObject({
      chunked: false,
      contentLength: String(form.getLengthSync()),
      received: form.getLengthSync(),
      parts: expectedParts,
    });
  });

  it('sends the same form again on a retry (an interceptor re-sends the config after a 503)', async () => {
    let calls = 0;
    const flaky = await startServer((req, res) => {
      if (++calls === 1) return void req.resume().on('end', () => json(res, 503, {}));
      void receive(req).then((receipt) => json(res, 200, receipt));
    });
    const client = axios.create();
    client.interceptors.response.use(undefined, (error: { config: object; response?: { status: number } }) =>
      error.response?.status === 503 ? client.request(error.config) : Promise.reject(error as unknown as Error),
    );
    const form = makeForm();
    const { data } = await client.post<Receipt>(flaky.url, form, { maxRedirects: 0 });
    expect(calls).toBe(2);
    expect(data).toMatchObject({ received: form.getLengthSync(), parts: expectedParts });
  });

  it("reports upload progress through onUploadProgress, and the form's own uploadProgress event", async () => {
    const form = makeForm();
    const seen: number[] = [];
    form.on('uploadProgress', (loaded: number) => seen.push(loaded));
    await axios.post(receiver.url, form, { onUploadProgress: () => {} });
    expect(seen.at(-1)).toBe(form.getLengthSync());
  });
});

describe('got', () => {
  it('posts the form with its boundary and Content-Length', async () => {
    const form = makeForm();
    const data = await got.post(receiver.url, { body: form }).json<Receipt>();
    expect(data).toMatchObject({ chunked: false, contentLength: String(form.getLengthSync()), parts: expectedParts });
    expect(data.contentType).toBe(`multipart/form-data; boundary=${form.getBoundary()}`);
  });
});

describe('node-fetch 2', () => {
  it('posts the form with its Content-Length (it asks getLengthSync() when hasKnownLength())', async () => {
    const form = makeForm();
    const data = (await (await fetch2(receiver.url, { method: 'POST', body: form })).json()) as Receipt;
    expect(data).toMatchObject({ chunked: false, contentLength: String(form.getLengthSync()), parts: expectedParts });
  });

  it('follows a 307 by piping the same form again: the whole body arrives (form-data sends nothing the second time)', async () => {
    const server = await redirectingOnce();
    const form = makeForm();
    const response = await fetch2(server.url, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: form.getLengthSync(), parts: expectedParts });
  });

  it('rejects at once when the form fails mid-body (a stream shorter than its knownLength)', async () => {
    const form = new FormData();
    form.append('s', Readable.from([Buffer.alloc(50)]), { knownLength: 100, filename: 's.bin' });
    // node-fetch pipes the form into its request and never ends the request on the form's error:
    // the form ends it, or fetch() stays pending.
    await expect(fetch2(receiver.url, { method: 'POST', body: form })).rejects.toMatchObject({
      code: 'ERR_SIZE_MISMATCH',
    });
  }, 10_000);
});

describe('superagent', () => {
  it('does not take a form-data object in .send(), ours or the original: it ends the request with the object', async () => {
    for (const form of [makeForm(), new OriginalFormData()]) {
      form.append('a', 'b');
      await expect(Promise.resolve(superagent.post(receiver.url).set(form.getHeaders()).send(form))).rejects.toThrow();
    }
  });

  it("takes the form piped into its request, with the form's headers and length", async () => {
    const form = makeForm();
    const request = superagent.post(receiver.url).set({ ...form.getHeaders(), 'content-length': form.getLengthSync() });
    // Not `await request`: that would end the request before the form is piped into it.
    const body = await new Promise<Receipt>((resolve, reject) => {
      (request as unknown as NodeJS.EventEmitter)
        .on('response', (res: { body: Receipt }) => resolve(res.body))
        .on('error', reject);
      form.pipe(request as unknown as NodeJS.WritableStream);
    });
    expect(body).toMatchObject({ chunked: false, parts: expectedParts });
  });
});

describe('upload()', () => {
  it('takes the form as a body: its boundary, exact length and progress', async () => {
    const form = makeForm();
    const progress: number[] = [];
    const response = await upload(receiver.url, form, { onUploadProgress: (loaded) => progress.push(loaded) });
    const data = (await response.json()) as Receipt;
    expect(data).toMatchObject({ chunked: false, contentLength: String(form.getLengthSync()), parts: expectedParts });
    expect(data.contentType).toBe(`multipart/form-data; boundary=${form.getBoundary()}`);
    expect(progress.at(-1)).toBe(form.getLengthSync());
  });

  it('sends it again on a 307', async () => {
    const server = await redirectingOnce();
    const form = makeForm();
    const data = (await (await upload(server.url, form)).json()) as Receipt;
    expect(data).toMatchObject({ received: form.getLengthSync(), parts: expectedParts });
  });

  it('refuses a FormData of the form-data package, typed', async () => {
    await expect(upload(receiver.url, new OriginalFormData() as unknown as FormData)).rejects.toMatchObject({
      code: 'ERR_INVALID_PARAMS',
    });
  });

  it('refuses encoding options for the form, which is encoded already', async () => {
    await expect(upload(receiver.url, makeForm(), { boundary: 'other' })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    });
  });
});
