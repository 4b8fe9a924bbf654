import type { ClientRequest } from 'node:http';
import { UploadError } from '../common/errors.js';
import { messageOf } from '../common/messages.js';
import { recyclingChunks, type EncodedBody } from '../multipart/encode.js';
import type { RequestState } from './request-state.js';
import { SliceWriter } from './slices.js';

/** A request's own buffer (Node's default highWaterMark): the body loop reads on while no more than this waits to be sent. */
const REQUEST_BUFFER_BYTES = 16 * 1024;

export interface BodyWriterSettings {
  expectContinue: boolean;
  expectTimeout: number;
  onUploadProgress: ((loaded: number, total: number | undefined) => void) | undefined;
  onBodySent: (() => void) | undefined;
}

/**
 * Streams the body with back-pressure: true when all of it went out, false when an answer or a
 * failure came first (nothing more is read or written then). Rejects with the body's own failure
 * (its source failed, it produced other than its Content-Length); the caller aborts the request.
 */
export async function writeBody(
  req: ClientRequest,
  encoded: EncodedBody,
  settings: BodyWriterSettings,
  state: RequestState,
): Promise<boolean> {
  if (settings.expectContinue && !(await awaitContinue(req, settings.expectTimeout, state))) return false;
  const total = encoded.contentLength;
  const { chunks, recycle } = recyclingChunks(encoded.body);
  const progress = progressOf(req, total, settings.onUploadProgress);
  const writer = new SliceWriter(req, {
    onWritten: progress.told,
    onBlockDone: recycle,
    stopped: () => progress.failed || state.settled,
    fine: settings.onUploadProgress !== undefined,
  });
  // Waits until at most `limit` bytes are still on their way to the kernel; false if the request stopped meanwhile.
  const drained = async (limit: number) => {
    await state.until((wake) => {
      void writer.whenPendingAtMost(limit).then(wake);
      return () => writer.wake();
    });
    return !(progress.failed || state.settled);
  };
  let sent = 0;
  try {
    for (;;) {
      const { value, done } = await chunks.next();
      if (state.settled) return false;
      if (done) break;
      if (total !== undefined && sent + value.length > total)
        throw sizeMismatch(`more than the ${total} bytes declared in Content-Length`);
      sent += value.length;
      writer.push(value);
      // As a plain write and 'drain' would: small chunks go on at once, a block once the kernel has (nearly) taken it.
      if (writer.pending > REQUEST_BUFFER_BYTES && !(await drained(REQUEST_BUFFER_BYTES))) return false;
    }
  } finally {
    await chunks.return?.();
  }
  if (total !== undefined && sent !== total) throw sizeMismatch(`${sent} bytes, not the ${total} declared`);
  if (!(await drained(0))) return false;
  req.end(() => {
    if (!(progress.failed || state.settled)) callBodySent(req, settings.onBodySent);
  });
  return true;
}

/**
 * Sends the head alone and waits for `100 Continue`, at most `timeout` ms (then the body goes
 * anyway, as curl does); false when a final answer or a failure came first.
 */
async function awaitContinue(req: ClientRequest, timeout: number, state: RequestState): Promise<boolean> {
  // The head goes out once the agent has given the request a socket: a proxy agent has built
  // (and, with Expect, queued) it by then; with other agents nothing has, and it is flushed here.
  const flush = () => {
    if (!req.headersSent) req.flushHeaders();
  };
  if (req.socket) flush();
  else req.once('socket', flush);
  await state.until((wake) => {
    req.once('continue', wake);
    const timer = setTimeout(wake, timeout);
    return () => {
      req.off('continue', wake);
      clearTimeout(timer);
    };
  });
  return !state.settled;
}

/** Progress as the kernel takes the bytes; a callback that throws fails the request with ERR_CALLBACK_FAILED. */
function progressOf(
  req: ClientRequest,
  total: number | undefined,
  onProgress: BodyWriterSettings['onUploadProgress'],
): { told: (bytes: number) => void; readonly failed: boolean } {
  let loaded = 0;
  let failed = false;
  return {
    told: (bytes) => {
      loaded += bytes;
      if (onProgress === undefined || failed) return;
      try {
        onProgress(loaded, total);
      } catch (cause) {
        failed = true;
        req.destroy(new UploadError('ERR_CALLBACK_FAILED', `onUploadProgress threw: ${messageOf(cause)}`, { cause }));
      }
    },
    get failed() {
      return failed;
    },
  };
}

function callBodySent(req: ClientRequest, onBodySent: (() => void) | undefined): void {
  try {
    onBodySent?.();
  } catch (cause) {
    req.destroy(new UploadError('ERR_CALLBACK_FAILED', `onBodySent threw: ${messageOf(cause)}`, { cause }));
  }
}

function sizeMismatch(what: string): UploadError {
  return new UploadError('ERR_SIZE_MISMATCH', `the body produced ${what}; nothing past it was sent`);
}
