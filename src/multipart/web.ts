import { MultipartError } from '../common/errors.js';
import { BlobSource, FileSource, unreadable, type ByteSource } from './sources.js';
import { assertNoDelimiterIn } from './delimiter.js';
import { LoopTurns } from '../common/turns.js';
import { bodyLength, inMemory, inMemoryChecked, isSource, type Piece } from './wire.js';

/**
 * The body as a `Blob` made of its framing and its parts, nothing read: files as
 * `fs.openAsBlob` slices (reading one fails if the file changed since), Blobs as they are,
 * bytes and text copied in. Its `size` is the Content-Length. `type` is set only when it
 * survives the Blob constructor, which lower-cases it (a caller's mixed-case boundary would not).
 */
export async function piecesToBlob(pieces: readonly Piece<unknown>[], contentType: string): Promise<Blob> {
  const parts: Array<Blob | Uint8Array> = [];
  // Framing and small values are gathered into blocks, and the event loop gets its turns: a Blob of
  // 100,000 fields is then made of a hundred blocks, not of 300,000 strings in one long turn.
  const gathered = new Gatherer(parts);
  const turns = new LoopTurns();
  for (const piece of pieces) {
    if (turns.due) await turns.turn();
    const { part, data, scanFor } = piece;
    if (!isSource(data)) {
      gathered.add(inMemory(inMemoryChecked(piece)));
      continue;
    }
    const blob = await sourceBlob(data, part?.label);
    // With a caller-chosen boundary, file and Blob data must not hold its delimiter. The stream body
    // checks as it sends; here the Blob is read once to check it (the only case where toBlob() reads
    // a file): it is the same Blob that is sent, and Node refuses to read a file Blob whose file changed.
    if (scanFor !== undefined)
      await assertNoDelimiterIn(new BlobSource(blob, part?.label).read(BLOB_READ, part?.label), scanFor, part?.label);
    gathered.flush();
    parts.push(blob);
  }
  gathered.flush();
  const options = contentType === contentType.toLowerCase() ? { type: contentType } : {};
  const length = bodyLength(pieces);
  const blob = new Blob(parts, options);
  if (blob.size === length) return blob;
  // Bun drops file-backed Blobs placed inside another Blob. Never hand out one that lies about its
  // length: there, file parts are read into memory, up to IN_MEMORY_FALLBACK bytes of them.
  const fileBytes = parts.reduce((sum, part) => sum + (part instanceof Blob ? part.size : 0), 0);
  if (fileBytes <= IN_MEMORY_FALLBACK) {
    const copied = new Blob(
      await Promise.all(
        parts.map(async (part) => (part instanceof Blob ? new Uint8Array(await part.arrayBuffer()) : part)),
      ),
      options,
    );
    if (copied.size === length) return copied;
  }
  throw new MultipartError(
    'ERR_BLOB_UNSUPPORTED',
    `this runtime composed a Blob of ${blob.size} bytes from a body of ${length} (its Blob cannot hold file-backed parts, and ${fileBytes} bytes of files are more than the ${IN_MEMORY_FALLBACK} read into memory instead); send the stream body (form.body or form.toReadableStream())`,
  );
}

/** Where a runtime's Blob cannot hold file-backed Blobs (Bun), toBlob() reads up to this many bytes of files into memory instead. */
export const IN_MEMORY_FALLBACK = 64 * 1024 * 1024;

async function sourceBlob(source: ByteSource, label: string | undefined): Promise<Blob> {
  if (source instanceof BlobSource && source.blob instanceof Blob) return nativeBlob(source, source.blob, label);
  if (source instanceof FileSource) {
    const { openAsBlob, promises } = await import('node:fs');
    if (typeof openAsBlob !== 'function') {
      throw new MultipartError(
        'ERR_BLOB_UNSUPPORTED',
        'this runtime has no fs.openAsBlob to put a file in a Blob; send the stream body instead',
        { paramName: label },
      );
    }
    let file: Blob;
    try {
      // The file that was measured, still: a Blob reads whatever is at the path (Node refuses a read only once it changes after this).
      source.assertUnchanged(await promises.stat(source.path), label);
      file = await openAsBlob(source.path);
    } catch (cause) {
      throw cause instanceof MultipartError ? cause : unreadable(source.description, cause, label);
    }
    return source.start === 0 && source.size === file.size
      ? file
      : file.slice(source.start, source.start + source.size);
  }
  const what =
    source instanceof BlobSource ? "a Blob of another implementation (not this runtime's Blob)" : 'a one-shot stream';
  throw new MultipartError(
    'ERR_BLOB_UNSUPPORTED',
    `its data is ${what}, which cannot be part of a Blob; send the stream body (form.body or form.toReadableStream()) instead`,
    {
      paramName: label,
    },
  );
}

/** What Blob.prototype.size says of a Blob: its bytes, whatever a subclass's `size` getter answers. */
const intrinsicSize = Object.getOwnPropertyDescriptor(Blob.prototype, 'size')!.get!;

/**
 * A caller's Blob as a plain Blob of this runtime, holding the bytes that were declared. The Blob
 * constructor takes a Blob part's length from its `size` and its bytes from the Blob itself: a
 * subclass whose `size` lies would make a Blob whose `size` (the Content-Length) is not its byte
 * count. Its true size must be the one declared (as the stream body holds it to), and a plain
 * slice of it, sharing its bytes, is what goes in.
 */
function nativeBlob(source: BlobSource, blob: Blob, label: string | undefined): Blob {
  const size = intrinsicSize.call(blob) as number;
  if (size !== source.size) {
    throw new MultipartError(
      'ERR_SIZE_MISMATCH',
      `the ${source.description} holds ${size} bytes; ${source.size} were declared in Content-Length`,
      { paramName: label },
    );
  }
  return blob.constructor === Blob ? blob : Blob.prototype.slice.call(blob, 0, size);
}

/** A Blob is read in the chunks its stream gives: the file settings do not apply. */
const BLOB_READ = { blockSize: 0, syncReadLimit: 0 };

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

/** Bytes gathered before they become one part of the Blob. */
const GATHER_BYTES = 64 * 1024;

/** Gathers small strings and bytes into blocks of GATHER_BYTES; larger bytes are passed on as they are. */
class Gatherer {
  readonly #out: Array<Blob | Uint8Array>;
  #block: Buffer | undefined;
  #used = 0;

  constructor(out: Array<Blob | Uint8Array>) {
    this.#out = out;
  }

  add(data: string | Uint8Array): void {
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (size >= GATHER_BYTES) {
      this.flush();
      this.#out.push(typeof data === 'string' ? Buffer.from(data) : new Uint8Array(data.buffer, data.byteOffset, size));
      return;
    }
    if (this.#used + size > GATHER_BYTES) this.flush();
    this.#block ??= Buffer.allocUnsafe(GATHER_BYTES);
    if (typeof data === 'string') this.#block.write(data, this.#used);
    else this.#block.set(data, this.#used);
    this.#used += size;
  }

  /** Ends the current block: what follows is a part of its own. */
  flush(): void {
    if (this.#used === 0) return;
    this.#out.push(this.#block!.subarray(0, this.#used));
    this.#block = undefined;
    this.#used = 0;
  }
}
