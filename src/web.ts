import { MultipartError } from './errors.js';
import { BlobSource, FileSource, type ByteSource } from './sources.js';
import { bodyLength, isSource, type Piece } from './wire.js';

/**
 * The body as a `Blob` made of its framing and its parts, nothing read: files as
 * `fs.openAsBlob` slices (reading one fails if the file changed since), Blobs as they are,
 * bytes and text copied in. Its `size` is the Content-Length. `type` is set only when it
 * survives the Blob constructor, which lower-cases it (a caller's mixed-case boundary would not).
 */
export async function piecesToBlob(pieces: readonly Piece<unknown>[], contentType: string): Promise<Blob> {
  const parts: Array<Blob | Uint8Array | string> = [];
  for (const { part, data } of pieces) {
    if (!isSource(data)) {
      parts.push(typeof data === 'string' ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      continue;
    }
    parts.push(await sourceBlob(data, part?.label));
  }
  const blob = new Blob(parts, contentType === contentType.toLowerCase() ? { type: contentType } : {});
  const length = bodyLength(pieces);
  // Bun drops file-backed Blobs placed inside another Blob: never hand out one that lies about its length.
  if (blob.size !== length) {
    throw new MultipartError(
      'ERR_BLOB_UNSUPPORTED',
      `this runtime composed a Blob of ${blob.size} bytes from a body of ${length}; send the stream body (form.body or form.toReadableStream()) instead`,
    );
  }
  return blob;
}

async function sourceBlob(source: ByteSource, label: string | undefined): Promise<Blob> {
  if (source instanceof BlobSource && source.blob instanceof Blob) return source.blob;
  if (source instanceof FileSource) {
    const { openAsBlob } = await import('node:fs');
    if (typeof openAsBlob !== 'function') {
      throw new MultipartError('ERR_BLOB_UNSUPPORTED', 'this runtime has no fs.openAsBlob to put a file in a Blob; send the stream body instead', { paramName: label });
    }
    const file = await openAsBlob(source.path);
    return source.start === 0 && source.size === file.size ? file : file.slice(source.start, source.start + source.size);
  }
  const what = source instanceof BlobSource ? 'a Blob of another implementation (not this runtime\'s Blob)' : 'a one-shot stream';
  throw new MultipartError('ERR_BLOB_UNSUPPORTED', `its data is ${what}, which cannot be part of a Blob; send the stream body (form.body or form.toReadableStream()) instead`, {
    paramName: label,
  });
}

/** A web ReadableStream of bytes over the body: pulled chunk by chunk (nothing read before it is asked for); cancel closes the open file. */
export function iterableToReadableStream(body: AsyncIterable<Buffer>): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<Buffer> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        chunks ??= body[Symbol.asyncIterator]();
        try {
          const { value, done } = await chunks.next();
          if (done) controller.close();
          else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        await chunks?.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
