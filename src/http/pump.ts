import { UploadError } from '../common/errors.js';

/** Returned by pump when the attempt stopped before the body ended. */
export const STOPPED = Buffer.alloc(0);

/** The body disagreed with its Content-Length: nothing past the disagreement went out. */
export function sizeMismatch(what: string): UploadError {
  return new UploadError('ERR_SIZE_MISMATCH', `the body produced ${what}; nothing past it was sent`);
}

/**
 * Hands every chunk to `send` but the one that completes Content-Length: that one is returned, to
 * be sent only once the source has ended. A source that yields a byte more then fails the attempt
 * while the server still lacks a byte, so the server never takes a cut body for a whole one (over
 * HTTP/1.1 and HTTP/2 alike). STOPPED once `stopped()` or `send` says the attempt is over.
 */
export async function pump(
  chunks: AsyncGenerator<Buffer, void, undefined>,
  send: (chunk: Buffer) => Promise<boolean>,
  total: number | undefined,
  stopped: () => boolean,
): Promise<Buffer | undefined> {
  let sent = 0;
  let last: Buffer | undefined;
  for (;;) {
    const { value, done } = await chunks.next();
    if (stopped()) return STOPPED;
    if (done) break;
    if (value.length === 0) continue;
    if (last !== undefined || (total !== undefined && sent + value.length > total))
      throw sizeMismatch(`more than the ${total} bytes declared in Content-Length`);
    sent += value.length;
    if (sent === total) last = value;
    else if (!(await send(value))) return STOPPED;
  }
  if (total !== undefined && sent !== total)
    throw sizeMismatch(`${sent} bytes, not the ${total} declared in Content-Length`);
  return last;
}
