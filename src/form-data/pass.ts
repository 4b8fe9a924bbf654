import { Readable } from 'node:stream';

/** One pass over the body: its chunks, pulled one at a time into a Readable. */
export interface Pass {
  chunks: AsyncGenerator<Buffer, void, undefined> | undefined;
  pulling: boolean;
}

/** What a Readable's `_read` does: pull the next chunk (starting the pass if needed) and push it, or fail the stream. */
export function pullNext(stream: Readable, pass: Pass, start: () => AsyncGenerator<Buffer, void, undefined>): void {
  if (pass.pulling) return;
  const chunks = (pass.chunks ??= start());
  pass.pulling = true;
  chunks.next().then(
    ({ value, done }) => {
      pass.pulling = false;
      if (pass.chunks === chunks) stream.push(done ? null : value);
    },
    (error: unknown) => {
      pass.pulling = false;
      if (pass.chunks === chunks) stream.destroy(error as Error);
    },
  );
}

/**
 * What a Readable's `_destroy` does: let go of the pass. A file being read is closed once its
 * pending read returns; the stream does not wait for that (a caller's stream may never yield again).
 */
export function endPass(pass: Pass, error: Error | null, callback: (error?: Error | null) => void): void {
  const chunks = pass.chunks;
  pass.chunks = undefined;
  pass.pulling = false;
  chunks?.return().catch(() => {});
  callback(error);
}

/** A Readable over a fresh pass of the body (submit() sends one each time). */
export function passStream(start: () => AsyncGenerator<Buffer, void, undefined>, highWaterMark?: number): Readable {
  const pass: Pass = { chunks: undefined, pulling: false };
  return new Readable({
    ...(highWaterMark === undefined ? {} : { highWaterMark }),
    read() {
      pullNext(this, pass, start);
    },
    destroy(error, callback) {
      endPass(pass, error, callback);
    },
  });
}

/** A pass that fails at once: a body that cannot be planned fails the stream that would send it, before a byte. */
export async function* failing(error: unknown): AsyncGenerator<Buffer, void, undefined> {
  yield* [];
  throw error;
}
