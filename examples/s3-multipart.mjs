import { stat } from 'node:fs/promises';
import { rawBody, upload } from 'multipart-poster';

/**
 * The loop uploadParts() runs, written out: a file in slices of `partSize` bytes, `concurrency`
 * at a time, each PUT to the URL `partUrl(partNumber)` gives (presigned for that part by your
 * backend), each read lazily with an exact Content-Length and retried on its own, byte for byte.
 * When a part fails for good, no other starts and those in flight are aborted before the error is
 * thrown. Resolves to [{ PartNumber, ETag }], what CompleteMultipartUpload takes.
 */
export async function uploadInParts(path, partUrl, { partSize = 8 * 1024 * 1024, concurrency = 4 } = {}) {
  const { size } = await stat(path);
  const count = Math.max(1, Math.ceil(size / partSize));
  const parts = [];
  const stop = new AbortController();
  let next = 0;
  async function worker() {
    while (next < count && !stop.signal.aborted) {
      const n = ++next;
      const body = await rawBody(path, { start: (n - 1) * partSize, end: Math.min(size, n * partSize) });
      const response = await upload(await partUrl(n), body, { method: 'PUT', signal: stop.signal, retry: 5 });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`part ${n}: the server answered ${response.status}`);
      parts[n - 1] = { PartNumber: n, ETag: response.headers.get('etag') };
    }
  }
  const stopOnFailure = (error) => {
    if (!stop.signal.aborted) stop.abort(error);
  };
  await Promise.allSettled(Array.from({ length: Math.min(concurrency, count) }, () => worker().catch(stopOnFailure)));
  if (stop.signal.aborted) throw stop.signal.reason;
  return parts;
}
