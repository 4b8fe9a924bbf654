import type { ClientHttp2Session } from 'node:http2';

/** How often a session with streams open is checked. */
const CHECK_MS = 750;
/** Checks in a row that find nghttp2's queue stuck before the session is taken as dead. */
const STRIKES = 2;

/**
 * Watches a session that has streams open, and keeps the process alive meanwhile (its timer is
 * ref'd: an upload pending never lets the process exit with its promise unsettled).
 *
 * Before Node 22.23 / 24.21, a protocol error that nghttp2 catches in what the server sent (DATA
 * before HEADERS, a frame over the size limit, a malformed PING or header block...) makes nghttp2
 * send GOAWAY and stop, and Node says nothing: no event, the session neither closed nor destroyed,
 * its streams pending forever. What stays visible is that nghttp2 sends nothing more: a PING stays in
 * its queue (`state.outboundQueueSize`) while the socket has nothing waiting to be written. A live
 * session sends a PING at once unless its socket is full (a server that does not read: then the
 * socket's write queue is not empty, and the session is not judged).
 */
export class Liveness {
  readonly #session: ClientHttp2Session;
  readonly #onDead: () => void;
  #timer: NodeJS.Timeout | undefined;
  /** A PING was queued at the last check. */
  #probed = false;
  #strikes = 0;

  constructor(session: ClientHttp2Session, onDead: () => void) {
    this.#session = session;
    this.#onDead = onDead;
  }

  /** Pings at once (a session reused after a silent death is judged within two checks), then checks every CHECK_MS. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#check(), CHECK_MS);
    this.#probe();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#probed = false;
    this.#strikes = 0;
  }

  /**
   * A PING sent earlier is judged by whether frames still wait in nghttp2's queue, not by its answer
   * (some servers never answer). A frame queued in the same turn as a check (a reset, a window
   * update) is sent in the next: only a queue stuck at STRIKES checks in a row is a dead session.
   */
  #check(): void {
    const session = this.#session;
    if (session.destroyed || session.closed) return this.stop();
    this.#strikes = this.#probed && unsendable(session) ? this.#strikes + 1 : 0;
    if (this.#strikes >= STRIKES) {
      this.stop();
      return this.#onDead();
    }
    this.#probe();
  }

  #probe(): void {
    try {
      // false when too many PINGs wait for an answer: no probe this time.
      this.#probed = this.#session.ping(() => {}) || this.#probed;
    } catch {
      this.#probed = false; // the session is going: its streams hear of it
    }
  }
}

/** True when frames wait in nghttp2's queue while the socket has nothing left to write: nghttp2 stopped sending. */
function unsendable(session: ClientHttp2Session): boolean {
  const queued = session.state.outboundQueueSize ?? 0;
  const handle = (session.socket as { _handle?: { writeQueueSize?: unknown } } | undefined)?._handle;
  const socketQueue = handle?.writeQueueSize;
  return queued > 0 && socketQueue === 0;
}
