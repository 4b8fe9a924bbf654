import { messageOf } from '../common/messages.js';
import { raceAbort } from '../common/wait.js';
import { PartsError } from './errors.js';
import type { ProtocolImpl } from './protocol.js';
import { sameFile, type FileIdentity } from './source.js';
import { isSession, type PartsSession, type SessionStore } from './store.js';

/** A saved session this call resumes: the piece size its stored pieces were cut by, and the protocol's state. */
export interface Saved {
  partSize: number;
  state: unknown;
}

/**
 * The session of one call in the store: found by protocol, destination and path, resumed only
 * when the file is the same one (size, mtime, inode, device), written as pieces are stored
 * (writes coalesced, one at a time), removed when the upload is done or abandoned. Each call is
 * bounded by a signal: a store that never answers is let go when the run stops (or the abandon
 * step's time runs out), and the call fails for the signal's reason.
 */
export class Sessions {
  readonly #store: SessionStore | undefined;
  readonly #impl: ProtocolImpl<unknown, unknown>;
  readonly #file: FileIdentity | undefined;
  readonly #key: string | undefined;
  #saving: Promise<void> | undefined;
  #pending: Saved | undefined;

  constructor(store: SessionStore | undefined, impl: ProtocolImpl<unknown, unknown>, file: FileIdentity | undefined) {
    this.#store = store;
    this.#impl = impl;
    this.#file = file;
    this.#key =
      store !== undefined && file !== undefined && impl.target !== undefined
        ? JSON.stringify([impl.name, impl.target, file.path])
        : undefined;
  }

  /**
   * The saved session to resume, if it is this file's and plans the whole of it; another's is
   * abandoned (`onStale`) and removed, and one that is not a session of this protocol removed.
   */
  load(onStale: (state: unknown) => Promise<void>, signal: AbortSignal): Promise<Saved | undefined> {
    return raceAbort(this.#load(onStale, signal), signal);
  }

  async #load(onStale: (state: unknown) => Promise<void>, signal: AbortSignal): Promise<Saved | undefined> {
    const store = this.#store;
    const key = this.#key;
    const file = this.#file;
    if (store === undefined || key === undefined || file === undefined) return undefined;
    const saved = await this.#use('read', async () => plain(await store.get(key)));
    if (saved === undefined || saved === null) return undefined;
    const impl = this.#impl;
    if (!isSession(saved) || saved.protocol !== impl.name || !impl.isState(saved.state)) {
      await this.forget(signal);
      return undefined;
    }
    const resumable =
      saved.target === impl.target &&
      saved.path === file.path &&
      sameFile(saved, file) &&
      impl.fits(saved.state, file.size, saved.partSize);
    if (resumable) return { partSize: saved.partSize, state: saved.state };
    // The file under this path is not the one the session began with, or the session does not plan
    // the whole of it (a run killed while it made its uploads, an edited file): never resumed into.
    await onStale(saved.state);
    await this.forget(signal);
    return undefined;
  }

  /** Writes the session; resolves once a write that includes this state is on disk. */
  save(partSize: number, state: unknown, signal: AbortSignal): Promise<void> {
    const store = this.#store;
    const key = this.#key;
    if (store === undefined || key === undefined) return Promise.resolve();
    this.#pending = { partSize, state };
    this.#saving ??= this.#flush(store, key);
    return raceAbort(this.#saving, signal);
  }

  async #flush(store: SessionStore, key: string): Promise<void> {
    try {
      while (this.#pending !== undefined) {
        const session = this.#record(this.#pending);
        this.#pending = undefined;
        await this.#use('write', () => store.set(key, session));
      }
    } finally {
      this.#saving = undefined;
    }
  }

  #record({ partSize, state }: Saved): PartsSession {
    const file = this.#file!;
    return {
      version: 1,
      protocol: this.#impl.name,
      target: this.#impl.target!,
      path: file.path,
      size: file.size,
      mtimeNs: file.mtimeNs,
      ino: file.ino,
      dev: file.dev,
      partSize,
      // A copy taken now: the protocol goes on changing its state while the write runs.
      state: JSON.parse(JSON.stringify(state)) as unknown,
      updated: new Date().toISOString(),
    };
  }

  /** Removes the session (after any write in progress). */
  forget(signal: AbortSignal): Promise<void> {
    return raceAbort(this.#forget(), signal);
  }

  async #forget(): Promise<void> {
    const store = this.#store;
    const key = this.#key;
    if (store === undefined || key === undefined) return;
    this.#pending = undefined;
    await this.#saving?.catch(() => {});
    await this.#use('remove', () => store.delete(key));
  }

  async #use<T>(what: string, action: () => T | Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (cause) {
      throw new PartsError('ERR_STORE_FAILED', `the session store failed to ${what} a session: ${messageOf(cause)}`, {
        cause,
      });
    }
  }
}

/**
 * What the store gave, as plain JSON (what a session is), read once: a getter or a Proxy that
 * throws fails the read (ERR_STORE_FAILED), and the run never changes an object the store keeps.
 */
function plain(value: unknown): unknown {
  const text = value === undefined || value === null ? undefined : JSON.stringify(value);
  return text === undefined ? value : (JSON.parse(text) as unknown);
}
