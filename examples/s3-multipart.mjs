import { stat } from 'node:fs/promises';
import http from 'node:http';
import { rawBody, upload } from 'multipart-poster';

/**
 * Uploads a file in slices of `partSize` bytes, `concurrency` at a time, to a server that speaks
 * S3's multipart upload: POST ?uploads starts it, PUT ?partNumber=N&uploadId=ID sends a slice
 * (its ETag identifies it), POST ?uploadId=ID with the list of parts completes it. Each slice is
 * read lazily with an exact Content-Length; a slice that fails (a 503, a reset connection) is
 * sent again, byte for byte. At most `concurrency` files are open at once.
 */
export async function uploadInParts(
  path,
  objectUrl,
  { partSize = 8 * 1024 * 1024, concurrency = 4, headers = {} } = {},
) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    const started = await upload(`${objectUrl}?uploads`, await rawBody(new Uint8Array(0)), { agent, headers });
    const { uploadId } = await started.json();
    const { size } = await stat(path);
    const count = Math.max(1, Math.ceil(size / partSize));
    const etags = new Array(count);
    let next = 0;
    async function worker() {
      while (next < count) {
        const index = next++;
        const body = await rawBody(path, { start: index * partSize, end: Math.min(size, (index + 1) * partSize) });
        const response = await upload(`${objectUrl}?partNumber=${index + 1}&uploadId=${uploadId}`, body, {
          method: 'PUT',
          agent,
          headers,
          retry: { limit: 5, backoff: 50 },
        });
        if (!response.ok) throw new Error(`part ${index + 1}: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
        etags[index] = response.headers.get('etag');
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    const parts = etags.map((etag, i) => ({ partNumber: i + 1, etag }));
    const done = await upload(
      `${objectUrl}?uploadId=${uploadId}`,
      await rawBody(Buffer.from(JSON.stringify({ parts })), { type: 'application/json' }),
      {
        agent,
        headers,
      },
    );
    return done.json();
  } finally {
    agent.destroy();
  }
}
