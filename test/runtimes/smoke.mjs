// The runtime smoke script: run by Node, Bun and Deno from a scratch project that installed the
// packed tarball (test/runtimes.test.ts copies it there, so `multipart-poster` resolves from its
// node_modules as it does for a user). It encodes a form of real files, sends it to the receiver
// with this runtime's fetch and with upload(), and prints one JSON object on stdout: for each step
// what this side saw, or the error it hit. What arrived is checked on the receiver's side.
//
//   <runtime> smoke.mjs '{"url":"http://127.0.0.1:PORT/bun","boundary":"B","files":{...}}' [--web-bodies]
//
// Plain JavaScript that every runtime runs as is; node:crypto and node:fs are in all three.
import { createHash } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { multipartEncode, MultipartParam, rawBody, upload } from 'multipart-poster';

const config = JSON.parse(process.argv[2]);
const webBodies = process.argv.includes('--web-bodies');

/** The form every step sends: a text field and three files (binary, multi-block, non-ASCII filename). */
async function encodeForm() {
  return multipartEncode(
    {
      title: 'smoke',
      photo: await MultipartParam.fromFile('photo', config.files.photo),
      big: await MultipartParam.fromFile('big', config.files.big),
      notes: await MultipartParam.fromFile('notes', config.files.notes),
    },
    { boundary: config.boundary },
  );
}

/** Length and SHA-256 of everything an (async) iterable of byte chunks yields. */
async function digest(chunks) {
  const hash = createHash('sha256');
  let length = 0;
  let allBytes = true;
  for await (const chunk of chunks) {
    if (!(chunk instanceof Uint8Array)) allBytes = false;
    hash.update(chunk);
    length += chunk.byteLength;
  }
  return { length, sha256: hash.digest('hex'), allBytes };
}

/** Reads a web ReadableStream through its reader (not its async iterator, which not every runtime had). */
async function* readAll(stream) {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * This process's open descriptors on the test's files (Linux /proc), or a string saying why they
 * cannot be counted: Deno lets a script list /proc/self/fd only with --allow-all, which the smoke
 * run does not grant (it runs with what a user would: --allow-read --allow-net=127.0.0.1).
 */
function openTestFiles() {
  const dir = config.files.dir;
  let fds;
  try {
    fds = readdirSync('/proc/self/fd');
  } catch (error) {
    if (error?.name === 'NotCapable') return 'unknown: /proc/self/fd needs --allow-all';
    throw error;
  }
  let open = 0;
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) open++;
    } catch {
      // closed while we looked
    }
  }
  return open;
}

const post = (step, init) => fetch(`${config.url}/${step}`, { method: 'POST', ...init });

async function status(response) {
  await response.arrayBuffer(); // read the receiver's answer to its end, so nothing is left open
  return response.status;
}

/** What works today: encode, fetch with the stream body, upload(), rawBody(). */
function coreSteps() {
  return {
    async encode() {
      const form = await encodeForm();
      const first = await digest(form.body);
      const again = await digest(form.body);
      return {
        headers: form.headers,
        contentLength: form.contentLength,
        boundary: form.boundary,
        ...first,
        againSha256: again.sha256,
      };
    },
    async 'fetch-stream'() {
      const form = await encodeForm();
      return {
        status: await status(await post('fetch-stream', { body: form.body, headers: form.headers, duplex: 'half' })),
      };
    },
    async upload() {
      const form = await encodeForm();
      const progress = [];
      const response = await upload(`${config.url}/upload`, form, {
        onUploadProgress: (loaded, total) => progress.push([loaded, total]),
      });
      return { status: await status(response), lastProgress: progress.at(-1), progressCalls: progress.length > 0 };
    },
    async 'raw-body'() {
      const raw = await rawBody(config.files.big);
      return {
        headers: raw.headers,
        status: await status(await upload(`${config.url}/raw-body`, raw, { method: 'PUT' })),
      };
    },
  };
}

/**
 * Issue 11 section 1, not in the library yet: form.toBlob() and form.toReadableStream(). These
 * steps fail until that API lands (run with --web-bodies; test/runtimes.test.ts does so when
 * MULTIPART_POSTER_WEB_BODIES=1). The Blob's bytes are read back and hashed on purpose: Bun drops
 * file-backed Blobs placed inside `new Blob([...])`, so a composed Blob's size alone proves nothing.
 */
function webBodySteps() {
  return {
    async 'to-blob'() {
      const form = await encodeForm();
      const blob = await form.toBlob();
      const bytes = new Uint8Array(await blob.arrayBuffer());
      const streamed = await digest(readAll(blob.stream()));
      return {
        isBlob: blob instanceof Blob,
        size: blob.size,
        contentLength: form.contentLength,
        length: bytes.byteLength,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        streamSha256: streamed.sha256,
      };
    },
    async 'to-blob-fetch'() {
      const form = await encodeForm();
      const blob = await form.toBlob();
      return { status: await status(await post('to-blob-fetch', { body: blob, headers: form.headers })) };
    },
    async 'raw-to-blob-fetch'() {
      const raw = await rawBody(config.files.big);
      return {
        status: await status(
          await post('raw-to-blob-fetch', { method: 'PUT', body: await raw.toBlob(), headers: raw.headers }),
        ),
      };
    },
    async 'to-readable-stream'() {
      const form = await encodeForm();
      const stream = form.toReadableStream();
      return { isReadableStream: stream instanceof ReadableStream, ...(await digest(readAll(stream))) };
    },
    async 'to-readable-stream-fetch'() {
      const form = await encodeForm();
      return {
        status: await status(
          await post('to-readable-stream-fetch', {
            body: form.toReadableStream(),
            headers: form.headers,
            duplex: 'half',
          }),
        ),
      };
    },
    async 'to-readable-stream-cancel'() {
      // Read into the 3 MiB file (past the first block), then cancel: the open file must be closed.
      const form = await encodeForm();
      const reader = form.toReadableStream().getReader();
      let read = 0;
      for (let i = 0; i < 64 && read < 1.5 * 2 ** 20; i++) {
        const { done, value } = await reader.read();
        if (done) break;
        read += value.byteLength;
      }
      const openBeforeCancel = openTestFiles();
      await reader.cancel();
      return { readPastFirstBlock: read >= 1.5 * 2 ** 20, openBeforeCancel, openAfterCancel: openTestFiles() };
    },
  };
}

const steps = { ...coreSteps(), ...(webBodies ? webBodySteps() : {}) };
const results = {};
for (const [name, step] of Object.entries(steps)) {
  try {
    results[name] = await step();
  } catch (error) {
    results[name] = { error: String(error?.stack ?? error) };
  }
}
process.stdout.write(`${JSON.stringify(results)}\n`);
