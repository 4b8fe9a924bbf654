// What multipartDecode costs per part, in counts rather than time (steady on a busy machine): the
// promises created (as async_hooks sees them: with a hook enabled, V8 also makes one per await) and
// the bytes allocated (V8's sampling heap profiler, collected objects included), on bench/decode.mjs's
// 2,000 x 4 KiB files body fed in 64 KiB chunks, every part read to its end.
// `node bench/decode-counts.mjs [DIST]` (default: this checkout's dist/, after `npx tsup`); give
// another build's dist/ folder to compare.
import { createHook } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = process.argv[2] ?? join(fileURLToPath(import.meta.url), '..', '..', 'dist');
const { multipartDecode } = await import(pathToFileURL(join(dist, 'index.js')).href);
const BOUNDARY = '----bench-boundary-7MA4YWxkTrZu0gW';
const PARTS = 2000;

function body() {
  const data = randomBytes(4096).toString('latin1');
  const pieces = [];
  for (let i = 0; i < PARTS; i++)
    pieces.push(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file${i}"; filename="f${i}.bin"\r\nContent-Type: application/octet-stream\r\n\r\n${data}\r\n`,
    );
  pieces.push(`--${BOUNDARY}--\r\n`);
  return Buffer.from(pieces.join(''), 'latin1');
}

/** The body as a Readable giving one 64 KiB chunk per turn of the event loop, as bench/decode.mjs does. */
function source(bytes) {
  let at = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        const chunk = at < bytes.length ? bytes.subarray(at, (at += 64 * 1024)) : null;
        this.push(chunk);
      });
    },
  });
}

/** Decodes, reading every part; `consume` false: only the raw read of the same stream. */
async function run(bytes, consume) {
  let parts = 0;
  if (!consume) {
    for await (const chunk of source(bytes)) parts += chunk.length > 0 ? 0 : 1;
    return parts;
  }
  const options = { contentType: `multipart/form-data; boundary=${BOUNDARY}`, maxParts: Infinity };
  for await (const part of multipartDecode(source(bytes), options)) {
    for await (const _chunk of part);
    parts++;
  }
  return parts;
}

async function promisesPerPart(bytes) {
  const count = async (consume) => {
    let promises = 0;
    const hook = createHook({ init: (_id, type) => void (type === 'PROMISE' && promises++) });
    hook.enable();
    await run(bytes, consume);
    hook.disable();
    return promises;
  };
  return ((await count(true)) - (await count(false))) / PARTS;
}

/** Sampled bytes allocated while decoding, per part, without what this script's own loops allocate. */
async function bytesPerPart(bytes) {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 128,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await run(bytes, true);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  const self = import.meta.url;
  let total = 0;
  (function walk(node, inScript) {
    const ours = node.callFrame.url === self;
    if (!ours && !(inScript && node.callFrame.url === '')) total += node.selfSize;
    for (const child of node.children) walk(child, ours);
  })(profile.head, false);
  return total / PARTS;
}

const bytes = body();
await run(bytes, true); // warm up: compile once before counting
console.log(
  JSON.stringify({
    dist,
    node: process.version,
    promisesPerPart: Number((await promisesPerPart(bytes)).toFixed(2)),
    sampledBytesPerPart: Math.round(await bytesPerPart(bytes)),
  }),
);
