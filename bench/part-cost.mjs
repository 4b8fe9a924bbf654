// node --expose-gc bench/part-cost.mjs [LIBRARY] [--fields N]: what one text part of W3 costs the
// encoder, counted rather than timed (the counts hold on a shared, noisy machine where times do not).
// LIBRARY is a built index.js (default: dist/index.js), so two builds can be compared. For N fields
// of W3's shape, encoded and drained, it prints per part:
//   - bytes allocated: a sampling heap profile that counts collected objects too (the mean of 3 runs),
//     and the functions that allocate the most;
//   - bytes kept: the heap a planned body holds, after a full garbage collection;
//   - promises and immediates made (async_hooks): the turns the walk takes;
// and how many garbage collections ran meanwhile.
import { createHook } from 'node:async_hooks';
import { Session } from 'node:inspector/promises';
import { join, resolve } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const fieldsAt = args.indexOf('--fields');
const count = fieldsAt >= 0 ? Number(args[fieldsAt + 1]) : 100_000;
const library = args.find((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--fields');
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const { multipartEncode } = await import(
  pathToFileURL(library ? resolve(library) : join(import.meta.dirname, '..', 'dist', 'index.js')).href
);
// W3's fields (bench/workloads.mjs), their strings flattened first: reading a value's length flattens
// it, which is the caller's string and not the encoder's memory.
const fields = Array.from({ length: count }, (_, i) => [`f${i}`, `value-${String(i).padStart(12, '0')}`]);
for (const [name, value] of fields) Buffer.byteLength(name + value);

async function encodeAndDrain() {
  const form = await multipartEncode(fields);
  let bytes = 0;
  for await (const chunk of form.body) bytes += chunk.length;
  if (bytes !== form.contentLength) throw new Error(`${bytes} bytes sent, ${form.contentLength} declared`);
  return form;
}

await encodeAndDrain(); // the code warmed up, as in a process that encodes more than once

/**
 * A full collection, after a turn of the event loop: until then the frame that awaited a body may
 * still hold it. What survives is what something still holds.
 */
const collect = async () => {
  await new Promise(setImmediate);
  globalThis.gc();
  globalThis.gc();
};
const collections = { minor: 0, major: 0 };
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) collections.minor++;
    else collections.major++;
  }
});
await collect();
const before = process.memoryUsage().heapUsed;
observer.observe({ entryTypes: ['gc'] });
const kept = await encodeAndDrain();
await new Promise((done) => setTimeout(done, 10)); // the observer hears of the last collections
observer.disconnect();
await collect();
const keptPerPart = (process.memoryUsage().heapUsed - before) / count;
if (kept.contentLength === 0) throw new Error('unreachable: keeps the body alive until measured');

let promises = 0;
let immediates = 0;
const hook = createHook({
  init(_id, type) {
    if (type === 'PROMISE') promises++;
    else if (type === 'Immediate') immediates++;
  },
});
hook.enable();
await encodeAndDrain();
hook.disable();

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
const sites = new Map();
let allocated = 0;
const RUNS = 3;
for (let run = 0; run < RUNS; run++) {
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 64,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await encodeAndDrain();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  (function walk(node, caller) {
    const { functionName, url, lineNumber } = node.callFrame;
    const name =
      url === ''
        ? `${caller} > ${functionName || '(native)'}`
        : `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber + 1}`;
    if (node.selfSize > 0) {
      sites.set(name, (sites.get(name) ?? 0) + node.selfSize);
      allocated += node.selfSize;
    }
    for (const child of node.children) walk(child, functionName || '(anonymous)');
  })(profile.head, '');
}
session.disconnect();

const perPart = (bytes) => (bytes / RUNS / count).toFixed(0);
console.log(`${count.toLocaleString('en')} text fields, encoded and drained, per part:`);
console.log(`  allocated ${perPart(allocated)} bytes (sampled, collected objects counted; mean of ${RUNS} runs)`);
console.log(`  kept      ${keptPerPart.toFixed(0)} bytes while the body lives (after a full GC)`);
console.log(`  promises  ${(promises / count).toFixed(3)}, immediates ${(immediates / count).toFixed(4)}`);
console.log(
  `  collections while it ran: ${collections.minor} scavenges, ${collections.major} others (for the whole body)`,
);
console.log('  most allocated by:');
for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 8))
  console.log(`    ${perPart(bytes).padStart(5)}  ${site}`);
