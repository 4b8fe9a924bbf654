import type { Socket } from 'node:net';

/**
 * A connection whose answers cannot be written is ended. A client that pipelines requests and never
 * reads the answers fills the socket's buffers: Node then stops reading from it, so the idle
 * timeout, keep-alive and requestTimeout never fire, and the connection and the answers queued on
 * it (megabytes of reports) were held for ever. Once the server has bytes waiting for a connection,
 * it is destroyed when none of them has left the process for `ms` (the receiver's idleTimeoutMs),
 * looked at every quarter of that: a client that reads, however slowly, keeps its connection.
 */
export function guardWrites(socket: Socket, ms: number): void {
  if (watched.has(socket) || socket.destroyed || socket.writableLength === 0) return;
  const watch: Watch = {
    ...progressOf(socket),
    since: Date.now(),
    timer: setInterval(() => check(socket, watch, ms), Math.max(1, Math.ceil(ms / 4))),
    stop: () => stop(socket, watch),
  };
  // The server's own timers keep the process alive; this one only watches.
  watch.timer.unref();
  watched.set(socket, watch);
  socket.once('close', watch.stop);
}

interface Watch {
  sent: number;
  queued: number;
  since: number;
  timer: NodeJS.Timeout;
  stop: () => void;
}

const watched = new WeakMap<Socket, Watch>();

/**
 * How far the socket's writes have gone: the bytes whose writes have completed (writableLength
 * counts a write until it completes), and what libuv still holds of the writes in flight, which
 * falls as the system takes a large write bit by bit.
 */
function progressOf(socket: Socket): { sent: number; queued: number } {
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: unknown } | null })._handle;
  const queued = typeof handle?.writeQueueSize === 'number' ? handle.writeQueueSize : 0;
  return { sent: socket.bytesWritten - socket.writableLength, queued };
}

function check(socket: Socket, watch: Watch, ms: number): void {
  // Nothing waits: the next answer written arms the watch again.
  if (socket.destroyed || socket.writableLength === 0) return watch.stop();
  const now = progressOf(socket);
  if (now.sent > watch.sent || now.queued < watch.queued) watch.since = Date.now();
  watch.sent = now.sent;
  watch.queued = now.queued;
  if (Date.now() - watch.since < ms) return;
  watch.stop();
  socket.destroy();
}

function stop(socket: Socket, watch: Watch): void {
  clearInterval(watch.timer);
  socket.off('close', watch.stop);
  watched.delete(socket);
}
