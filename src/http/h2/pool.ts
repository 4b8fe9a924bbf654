import type { ClientHttp2Session } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { connect, type ConnectOptions, type TlsSettings, type TunnelAgent } from './connect.js';
import { PooledSession, type SessionLease } from './session.js';
import { raceAbort } from '../../common/wait.js';

export type { SessionLease } from './session.js';

/** What acquire() found: a place on an HTTP/2 session, or HTTP/1.1 (ALPN chose it), with the new socket if one was made. */
export type Acquired =
  { protocol: 'h2'; lease: SessionLease } | { protocol: 'http/1.1'; socket: TLSSocket | undefined };

export interface PoolOptions {
  /** Streams open at once on one session, at most (the server's own limit may be lower). */
  maxStreams?: number;
  /** A session with no stream for this long is closed. */
  idleMs?: number;
}

const DEFAULT_MAX_STREAMS = 100;
const DEFAULT_IDLE_MS = 5000;
/** Origins whose ALPN answer (http/1.1) is remembered, at most. */
const ALPN_MEMORY = 1000;
/** Connections made for one acquire() that each died before a stream could start on them: then it fails. */
const MAX_CONNECTS = 3;

interface Connecting {
  done: Promise<'h2' | 'http/1.1'>;
  cancel: () => void;
  /** acquire() calls waiting for it. */
  interested: number;
  settled: boolean;
  /** Every waiter gave up and the connect was cancelled: no acquire() joins it any more. */
  cancelled: boolean;
  /** The socket of an HTTP/1.1 answer, until one acquire() takes it. */
  socket: TLSSocket | undefined;
}

interface Entry {
  session: PooledSession | undefined;
  connecting: Connecting | undefined;
  /** acquire() calls waiting for a place on the session, first come first served. */
  waiters: Array<() => void>;
}

/**
 * HTTP/2 sessions by origin (and TLS settings and proxy): one session per origin, at most
 * `maxStreams` streams at once on it (fewer if the server says so); more requests wait for a
 * place. A session with no stream does not keep the process alive and closes after `idleMs`.
 * A session that received a GOAWAY or failed takes no new stream; the next request opens another.
 */
export class Http2Pool {
  readonly #options: Required<PoolOptions>;
  readonly #entries = new Map<string, Entry>();
  /** Origins where ALPN chose HTTP/1.1 under 'auto': asked once, then HTTP/1.1 straight away. */
  readonly #http1 = new Set<string>();

  constructor(options: PoolOptions = {}) {
    this.#options = {
      maxStreams: options.maxStreams ?? DEFAULT_MAX_STREAMS,
      idleMs: options.idleMs ?? DEFAULT_IDLE_MS,
    };
  }

  /** Sessions open or being opened (for tests and diagnostics). */
  get size(): number {
    let count = 0;
    for (const entry of this.#entries.values()) if (entry.session !== undefined || entry.connecting) count++;
    return count;
  }

  /**
   * A place for one stream to `url`'s origin: on the pooled session, on a new one, or HTTP/1.1
   * when ALPN chose it under 'auto'. Rejects with the signal's reason on abort (a connection no
   * one waits for any more is then cancelled) and with the connection's failure.
   */
  async acquire(url: URL, options: ConnectOptions, signal: AbortSignal): Promise<Acquired> {
    const key = poolKey(url, options.tls, options.tunnel);
    for (let connects = 0; ;) {
      signal.throwIfAborted();
      if (options.mode === 'auto' && this.#http1.has(key)) return { protocol: 'http/1.1', socket: undefined };
      const entry = this.#entry(key);
      const pooled = entry.session;
      if (pooled?.free) return { protocol: 'h2', lease: pooled.take() };
      if (pooled?.open) {
        await this.#placeOn(entry, pooled, signal);
        continue;
      }
      if (entry.connecting === undefined && ++connects > MAX_CONNECTS) {
        throw Object.assign(
          new Error(`${MAX_CONNECTS} HTTP/2 connections to ${url.host} closed before a stream could start on them`),
          { code: 'ECONNRESET' },
        );
      }
      const connecting = (entry.connecting ??= this.#open(key, entry, url, options));
      if ((await this.#connected(key, entry, connecting, signal)) === 'http/1.1') {
        const socket = connecting.socket;
        connecting.socket = undefined;
        return { protocol: 'http/1.1', socket };
      }
    }
  }

  /** Closes every session (streams in flight are cut short) and forgets ALPN answers. */
  close(): void {
    for (const entry of this.#entries.values()) {
      entry.connecting?.cancel();
      entry.session?.session.destroy();
    }
    this.#entries.clear();
    this.#http1.clear();
  }

  #entry(key: string): Entry {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { session: undefined, connecting: undefined, waiters: [] };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /** Waits until the session may have a free place, or is gone; the caller looks again. */
  #placeOn(entry: Entry, pooled: PooledSession, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const unhold = pooled.hold();
      const wake = () => {
        unhold();
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        unhold();
        const at = entry.waiters.indexOf(wake);
        if (at !== -1) entry.waiters.splice(at, 1);
        reject(signal.reason as Error);
      };
      entry.waiters.push(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async #connected(key: string, entry: Entry, connecting: Connecting, signal: AbortSignal): Promise<'h2' | 'http/1.1'> {
    connecting.interested++;
    try {
      return await raceAbort(connecting.done, signal);
    } finally {
      connecting.interested--;
      if (signal.aborted && connecting.interested === 0 && !connecting.settled) {
        // Forgotten at once: an acquire() that comes before `done` settles must not wait on a cancelled connect.
        connecting.cancelled = true;
        connecting.cancel();
        if (entry.connecting === connecting) entry.connecting = undefined;
        this.#drop(key, entry);
      }
    }
  }

  #open(key: string, entry: Entry, url: URL, options: ConnectOptions): Connecting {
    const { done, cancel } = connect(url, options);
    const connecting: Connecting = {
      done: done.then(
        (connected) => {
          connecting.settled = true;
          if (entry.connecting === connecting) entry.connecting = undefined;
          if (connecting.cancelled) {
            // It connected just as its last waiter gave up: no one will use it.
            if (connected.protocol === 'h2') connected.session.destroy();
            else connected.socket.destroy();
            this.#drop(key, entry);
            throw new Error('cancelled');
          }
          if (connected.protocol === 'http/1.1') {
            remember(this.#http1, key);
            connecting.socket = connected.socket;
            // Not taken by an acquire() (all gave up meanwhile): it is no one's.
            setImmediate(() => connecting.socket?.destroy());
            this.#drop(key, entry);
            return 'http/1.1';
          }
          this.#install(key, entry, connected.session);
          return 'h2';
        },
        (error: unknown) => {
          connecting.settled = true;
          if (entry.connecting === connecting) entry.connecting = undefined;
          this.#drop(key, entry);
          throw error;
        },
      ),
      cancel,
      interested: 0,
      settled: false,
      cancelled: false,
      socket: undefined,
    };
    connecting.done.catch(() => {}); // its failure reaches each acquire() waiting; none may be left
    return connecting;
  }

  #install(key: string, entry: Entry, session: ClientHttp2Session): void {
    const pooled: PooledSession = new PooledSession(
      session,
      this.#options,
      () => {
        if (entry.session === pooled) entry.session = undefined;
        for (const wake of entry.waiters.splice(0)) wake(); // they connect again
        this.#drop(key, entry);
      },
      (all) => {
        if (all) for (const wake of entry.waiters.splice(0)) wake();
        else entry.waiters.shift()?.();
      },
    );
    entry.session = pooled;
    for (const wake of entry.waiters.splice(0)) wake();
  }

  /** Forgets an entry with nothing in it. */
  #drop(key: string, entry: Entry): void {
    if (entry.session === undefined && entry.connecting === undefined && entry.waiters.length === 0) {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    }
  }
}

function remember(set: Set<string>, key: string): void {
  set.delete(key);
  set.add(key);
  if (set.size > ALPN_MEMORY) set.delete(set.values().next().value!);
}

const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'minVersion'] as const;
const identities = new WeakMap<object, number>();
let nextIdentity = 0;

function identity(value: object): string {
  let id = identities.get(value);
  if (id === undefined) identities.set(value, (id = ++nextIdentity));
  return `#${id}`;
}

/** A TLS setting as part of a pool key: certificates by content (read again per upload, they still match), other objects by identity. */
function keyPart(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Buffer.isBuffer(value)) return `b:${value.toString('base64')}`;
  if (Array.isArray(value)) return `[${value.map(keyPart).join(',')}]`;
  if (typeof value === 'object' && value !== null) return identity(value);
  return String(value);
}

/** Sessions are shared only between requests to the same origin, with the same TLS settings, through the same proxy. */
export function poolKey(url: URL, tls: TlsSettings | undefined, tunnel: TunnelAgent | undefined): string {
  const parts = [url.origin, tunnel === undefined ? '' : identity(tunnel)];
  for (const name of TLS_KEYS) parts.push(keyPart(tls?.[name]));
  return parts.join('|');
}
