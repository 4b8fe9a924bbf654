import type { Duplex } from 'node:stream';

const HOLDS_WRITE_ERRORS = Symbol('multipart-poster.holdsWriteErrors');

type WriteCallback = (error?: Error | null) => void;
interface Writes {
  _write(chunk: unknown, encoding: BufferEncoding, callback: WriteCallback): void;
  _writev?(chunks: unknown, callback: WriteCallback): void;
  [HOLDS_WRITE_ERRORS]?: true;
}

/**
 * Makes a server's early answer reach the caller even when the server closes the connection right
 * after it (a 413 sent before the body is read, then a close with the body unread: the kernel
 * resets the connection). The answer is then in the socket's receive buffer, but a write that
 * fails at once (EPIPE, ECONNRESET) destroys the socket in the same turn of the event loop,
 * before the loop has polled it, and the answer is lost: curl reads it, and so must we.
 *
 * A failed write's error is handed on only after one poll phase of the event loop has passed (two
 * setImmediate hops): the answer already received is read and parsed first, the request settles
 * with it, and the write error that follows changes nothing. A connection reset with no answer
 * fails as before, two loop turns later. Only `_write` and `_writev` are wrapped, the methods a
 * Writable calls for each write (stable across Node 20 to 24), on this socket only.
 */
export function readAnswerBeforeWriteErrors(socket: Duplex): void {
  const writes = socket as unknown as Writes;
  if (writes[HOLDS_WRITE_ERRORS]) return; // a kept-alive socket, wrapped for an earlier request
  writes[HOLDS_WRITE_ERRORS] = true;
  const write = writes._write;
  writes._write = function (chunk, encoding, callback) {
    write.call(this, chunk, encoding, afterNextPoll(callback));
  };
  const writev = writes._writev;
  if (typeof writev === 'function') {
    writes._writev = function (chunks, callback) {
      writev.call(this, chunks, afterNextPoll(callback));
    };
  }
}

function afterNextPoll(callback: WriteCallback): WriteCallback {
  return (error) => {
    if (!error) return callback(error);
    setImmediate(() => setImmediate(() => callback(error)));
  };
}
