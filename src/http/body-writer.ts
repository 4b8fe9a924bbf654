import type { ClientRequest } from 'node:http';
import { Socket } from 'node:net';
import { UploadError } from '../common/errors.js';
import { watchRejection } from '../common/callback.js';
import { nextTurn } from '../common/turns.js';
import { recyclingChunks, type EncodedBody } from '../multipart/encode.js';
import { paced, RateLimiter } from './rate.js';
import { claimReadSize } from './read-size.js';
import type { RequestState } from './request-state.js';
import { SliceWriter } from './slices.js';
import { pump, STOPPED } from './pump.js';
import { callbackError } from './callback-error.js';

/** A request's own buffer (Node's default highWaterMark): the body loop reads on while no more than this waits to be sent. */
const REQUEST_BUFFER_BYTES = 16 * 1024;

export interface BodyWriterSettings {
  expectContinue: boolean;
  expectTimeout: number;
  onUploadProgress: ((loaded: number, total: number | undefined) => void) | undefined;
  onBodySent: (() => void) | undefined;
  /** Where an `async` callback's rejection goes once this request has settled (the upload, if it still runs). */
  onLateFailure?: ((error: UploadError) => void) | undefined;
  /** upload()'s maxRate: bytes per second, at most. */
  maxRate?: number | undefined;
}

/**
 * Streams the body with back-pressure: true when all of it went out, false when an answer or a
 * failure came first (nothing more is read or written then). Rejects with the body's own failure
 * (its source failed, it produced other than its Content-Length, a callback threw); the caller
 * aborts the request.
 */
export async function writeBody(
  req: ClientRequest,
  encoded: EncodedBody,
  settings: BodyWriterSettings,
  state: RequestState,
): Promise<boolean> {
  if (settings.expectContinue && !(await awaitContinue(req, settings.expectTimeout, state))) return false;
  const claim = claimReadSize();
  try {
    return await streamBody(req, encoded, settings, state, claim.readSize);
  } finally {
    claim.release();
  }
}

async function streamBody(
  req: ClientRequest,
  encoded: EncodedBody,
  settings: BodyWriterSettings,
  state: RequestState,
  readSize: number | undefined,
): Promise<boolean> {
  const total = encoded.contentLength;
  const { chunks, recycle } = recyclingChunks(encoded.body, { readSize });
  const progress = progressOf(req, total, settings, state);
  const writer = new SliceWriter(req, {
    onWritten: progress.told,
    // A kernel socket is done with a block once its write calls back; a connection made in JS (a
    // caller's createConnection, a tunnel) may still hold it then: its blocks are not read into again.
    onBlockDone: (block) => {
      if (req.socket instanceof Socket) recycle(block);
    },
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
  const push = pusher(writer, settings.maxRate, drained, (ms) => pause(ms, state, () => progress.failed));
  let last: Buffer | undefined;
  try {
    last = await pump(chunks, push, total, () => progress.failed || state.settled);
  } finally {
    await chunks.return?.();
  }
  if (last === STOPPED) return false;
  if (last !== undefined && !(await push(last))) return false;
  if (!(await drained(0)) && !(await calledBackSoon(writer, state, progress))) return false;
  await finish(req, state, settings);
  return true;
}

/**
 * An answer may come before the last writes call back: over TLS they call back a turn of the event
 * loop after their bytes left. When every byte was handed to the request and the callbacks follow
 * within two turns, the body went out whole: the request ends as usual and its socket can serve
 * the next one. Callbacks that do not come that soon are bytes the server stopped reading.
 */
async function calledBackSoon(
  writer: SliceWriter,
  state: RequestState,
  progress: { failed: boolean },
): Promise<boolean> {
  const failed = () => progress.failed || state.failure !== undefined;
  if (failed() || writer.unwritten > 0) return false;
  for (let turn = 0; turn < 2 && writer.pending > 0; turn++) await nextTurn();
  return writer.pending === 0 && !failed();
}

/**
 * How a chunk goes to the writer: at once, or with maxRate in pieces, each when the rate allows it
 * (a timer: the event loop stays free). False once the request stopped.
 */
function pusher(
  writer: SliceWriter,
  maxRate: number | undefined,
  drained: (limit: number) => Promise<boolean>,
  wait: (ms: number) => Promise<boolean>,
): (chunk: Buffer) => Promise<boolean> {
  const limiter = maxRate === undefined ? undefined : new RateLimiter(maxRate);
  const send = async (piece: Buffer) => {
    writer.push(piece);
    // As a plain write and 'drain' would: small chunks go on at once, a block once the kernel has (nearly) taken it.
    return writer.pending <= REQUEST_BUFFER_BYTES || (await drained(REQUEST_BUFFER_BYTES));
  };
  return (chunk) => paced(chunk, limiter, wait, send);
}

/** Waits `ms` (the rate limit); false if the request stopped meanwhile. */
async function pause(ms: number, state: RequestState, failed: () => boolean): Promise<boolean> {
  await state.until((wake) => {
    const timer = setTimeout(wake, ms);
    return () => clearTimeout(timer);
  });
  return !(failed() || state.settled);
}

/**
 * Ends the request and waits until it is all flushed (or the request settles); `onBodySent` is
 * called if the body went out before any answer, and what it throws fails the upload.
 */
async function finish(req: ClientRequest, state: RequestState, settings: BodyWriterSettings): Promise<void> {
  const { onBodySent } = settings;
  req.end();
  await state.until((wake) => {
    if (req.writableFinished) wake(); // a body with a length: nothing was left to write
    req.once('finish', wake);
    return () => req.off('finish', wake);
  });
  if (state.settled || onBodySent === undefined) return; // an answer came first
  try {
    watchRejection(onBodySent(), (cause) =>
      lateFailure(req, callbackFailed('onBodySent', cause, state), state, settings),
    );
  } catch (cause) {
    throw callbackFailed('onBodySent', cause, state);
  }
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
  settings: BodyWriterSettings,
  state: RequestState,
): { told: (bytes: number) => void; readonly failed: boolean } {
  const onProgress = settings.onUploadProgress;
  let loaded = 0;
  let failed = false;
  const rejected = (cause: unknown) => {
    if (failed) return;
    failed = true;
    lateFailure(req, callbackFailed('onUploadProgress', cause, state), state, settings);
  };
  return {
    told: (bytes) => {
      loaded += bytes;
      if (onProgress === undefined || failed) return;
      try {
        watchRejection(onProgress(loaded, total), rejected);
      } catch (cause) {
        failed = true;
        req.destroy(callbackFailed('onUploadProgress', cause, state));
      }
    },
    get failed() {
      return failed;
    },
  };
}

/**
 * An `async` callback's rejection, which arrives after the call: it fails the request as a throw
 * would while the request runs; once the request has settled (an answer, a failure), it goes to
 * the upload, which fails with it unless its answer has been handed on (a retry's wait, say).
 */
function lateFailure(req: ClientRequest, error: UploadError, state: RequestState, settings: BodyWriterSettings): void {
  if (!state.settled) req.destroy(error);
  else settings.onLateFailure?.(error);
}

/** A caller's callback threw: the upload fails with it even if an answer has come meanwhile. */
function callbackFailed(name: string, cause: unknown, state: RequestState): UploadError {
  const error = callbackError(name, cause);
  state.callbackFailure ??= error;
  return error;
}
