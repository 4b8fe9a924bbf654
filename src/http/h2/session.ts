import type { ClientHttp2Session } from 'node:http2';
import type { SessionEnd } from './errors.js';
import { Liveness } from './liveness.js';

/** A stream's place on a pooled session, held from the request until its stream has closed. */
export interface SessionLease {
  readonly session: ClientHttp2Session;
  /** The last stream id a GOAWAY from the server named, once one came: streams above it were not processed. */
  readonly lastProcessedStreamId: number | undefined;
  /** How the session ended, once it did (its GOAWAY's code, its failure, a lost connection). */
  readonly end: SessionEnd;
  /** Gives the place back (idempotent); the session goes idle when its last stream is released. */
  release(): void;
}

export class PooledSession {
  readonly session: ClientHttp2Session;
  active = 0;
  /** False once the session takes no new streams (GOAWAY, error, its connection ended, close). */
  open = true;
  lastProcessedStreamId: number | undefined;
  /** How the session ended, for its streams' errors. */
  readonly end: SessionEnd = { goawayCode: undefined, failure: undefined, connectionLost: false };
  readonly #maxStreams: number;
  readonly #idleMs: number;
  readonly #onGone: () => void;
  readonly #onSlot: (all: boolean) => void;
  readonly #liveness: Liveness;
  #idle: NodeJS.Timeout | undefined;
  /** acquire() calls waiting for a place on this session (see hold()). */
  #waiting = 0;

  constructor(
    session: ClientHttp2Session,
    options: { maxStreams: number; idleMs: number },
    onGone: () => void,
    onSlot: (all: boolean) => void,
  ) {
    this.session = session;
    this.#maxStreams = options.maxStreams;
    this.#idleMs = options.idleMs;
    this.#onGone = onGone;
    this.#onSlot = onSlot;
    this.#liveness = new Liveness(session, () => this.#dead());
    session.on('goaway', (code: number, lastStreamId: number) => {
      this.end.goawayCode ??= code;
      this.lastProcessedStreamId = Math.min(lastStreamId, this.lastProcessedStreamId ?? lastStreamId);
      this.#retire();
    });
    // Node destroys the session and each stream with it: the streams learn why from `end`.
    session.on('error', (error: Error) => {
      this.end.failure ??= error;
      this.#retire();
    });
    session.on('close', () => {
      clearTimeout(this.#idle);
      this.#liveness.stop();
      this.#retire();
    });
    // A connection the server ended takes no new stream, even before Node tears the session down.
    const lost = () => {
      this.end.connectionLost = true;
      this.#retire();
    };
    session.socket.once('end', lost);
    session.socket.once('close', lost);
    // The server's stream limit may have changed: everyone waiting looks again.
    session.on('remoteSettings', () => onSlot(true));
    this.#goIdle();
  }

  get free(): boolean {
    const { session } = this;
    return this.open && !session.closed && !session.destroyed && this.active < this.#limit();
  }

  #limit(): number {
    return Math.min(this.#maxStreams, this.session.remoteSettings.maxConcurrentStreams ?? this.#maxStreams);
  }

  take(): SessionLease {
    this.active++;
    clearTimeout(this.#idle);
    this.#idle = undefined;
    this.session.ref();
    this.#liveness.start();
    return new Lease(this);
  }

  /**
   * An acquire() waits for a place: meanwhile the session keeps the process alive, as a stream
   * does. With no stream open (a server whose SETTINGS allow none) nothing else would, and the
   * process could exit with the upload's promise unsettled. Returns what ends the wait (idempotent).
   */
  hold(): () => void {
    this.#waiting++;
    this.session.ref();
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#waiting--;
      if (this.#waiting === 0 && this.active === 0 && !this.session.destroyed) this.session.unref();
    };
  }

  /** A stream of this session closed. */
  released(): void {
    this.active--;
    if (this.active === 0) {
      this.#liveness.stop();
      this.#goIdle();
    }
    this.#onSlot(false);
  }

  /** No stream: the session no longer keeps the process alive, and closes after the idle time (at once if retired). */
  #goIdle(): void {
    const { session } = this;
    if (session.destroyed) return;
    if (!this.open) return void session.close();
    if (this.#waiting === 0) session.unref();
    this.#idle = setTimeout(() => this.#retire(), this.#idleMs);
    this.#idle.unref();
  }

  /** nghttp2 stopped on a protocol error and Node did not say (see Liveness): the session is torn down, its streams fail. */
  #dead(): void {
    const failure = Object.assign(new Error('nghttp2 closed the session (GOAWAY sent) on a protocol error'), {
      code: 'ERR_HTTP2_ERROR',
    });
    this.end.failure ??= failure;
    this.#retire();
    this.session.destroy(failure);
  }

  #retire(): void {
    if (this.open) {
      this.open = false;
      this.#onGone();
    }
    if (this.active === 0 && !this.session.destroyed) this.session.close();
  }
}

class Lease implements SessionLease {
  readonly #pooled: PooledSession;
  #released = false;

  constructor(pooled: PooledSession) {
    this.#pooled = pooled;
  }

  get session(): ClientHttp2Session {
    return this.#pooled.session;
  }

  get lastProcessedStreamId(): number | undefined {
    return this.#pooled.lastProcessedStreamId;
  }

  get end(): SessionEnd {
    return this.#pooled.end;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#pooled.released();
  }
}
