import { onAbort } from '../common/abort.js';
import { MultipartError, UploadError } from '../common/errors.js';
import { watchRejection } from '../common/callback.js';
import { messageOf } from '../common/messages.js';
import { PartsError } from './errors.js';
import { stepCode } from './answers.js';
import { checkPartsOptions, type Settings, type UploadPartsOptions } from './options.js';
import { Progress } from './progress.js';
import type { ControlRequest, PartsContext, PieceRequest, ProtocolImpl, Step } from './protocol.js';
import { Sessions } from './sessions.js';
import { BlockPool } from '../multipart/sources.js';
import { openSource, PIECE_BLOCK_SIZE, type PartsSource, type Source } from './source.js';
import { Transport } from './transport.js';

/** Blocks a piece in flight holds at most: one read ahead, one or two the socket has yet to take. */
const BLOCKS_PER_PIECE = 4;

/** How long the abandon step may take after a failure or an abort (its requests run on a signal of their own). */
const ABANDON_TIMEOUT_MS = 30_000;

/**
 * Sends a file (or bytes, or a Blob) in pieces with `protocol`: `concurrency` pieces at a time,
 * each retried on its own, resumed from a saved session after a restart. On a piece refused for
 * good or an abort, no piece starts, those in flight are stopped, the protocol's abandon step
 * runs (unless `keepSession`) and the promise rejects with a PartsError listing what was stored.
 */
export async function uploadParts<Result>(source: PartsSource, options: UploadPartsOptions<Result>): Promise<Result> {
  const settings = checkPartsOptions(options);
  if (settings.signal?.aborted) {
    throw new PartsError('ERR_ABORTED', 'the upload was aborted before it began', { cause: settings.signal.reason });
  }
  const opened = await openSource(source);
  return (await new Run(settings, opened).execute()) as Result;
}

/** One call of uploadParts: its pieces, its stop, its session. */
class Run {
  readonly #settings: Settings;
  readonly #impl: ProtocolImpl<unknown, unknown>;
  readonly #source: Source;
  readonly #controller = new AbortController();
  readonly #progress: Progress;
  readonly #sessions: Sessions;
  /** File blocks shared by the pieces: a few per piece in flight, reused rather than left to the collector. */
  readonly #pool: BlockPool;
  #failure: PartsError | undefined;
  #state: unknown;
  #partSize = 0;
  #resumedBytes = 0;
  /** Set once the server holds the whole upload: nothing may abandon it then. */
  #finished = false;
  /** Set once every piece is sent: a late callback failure no longer stops anything. */
  #piecesSent = false;
  /** Set when a saved session's upload could not be asked about: it is kept, not abandoned. */
  #keepUpload = false;
  /** Lanes running at once: the caller's maxRate is shared among them. */
  #running = 1;

  constructor(settings: Settings, source: Source) {
    this.#settings = settings;
    this.#impl = settings.impl;
    this.#source = source;
    this.#progress = new Progress(source.size, (loaded, total) => this.#report(loaded, total));
    this.#sessions = new Sessions(settings.store, this.#impl, source.file);
    this.#pool = new BlockPool(PIECE_BLOCK_SIZE, settings.concurrency * BLOCKS_PER_PIECE);
  }

  /** The caller's abort: one handler of the signal's one shared listener. */
  readonly #onUserAbort = (): void =>
    this.#stop(new PartsError('ERR_ABORTED', 'the upload was aborted', { cause: this.#settings.signal?.reason }));

  async execute(): Promise<unknown> {
    const { signal } = this.#settings;
    const unsubscribe = signal === undefined ? undefined : onAbort(signal, this.#onUserAbort);
    // An abort while the source was opened came before the listener.
    if (signal?.aborted) this.#onUserAbort();
    const ctx = this.#context(this.#controller.signal);
    try {
      await this.#prepare(ctx);
      this.#progress.emit();
      await this.#runLanes(this.#impl.work(ctx, this.#state));
      this.#piecesSent = true;
      this.#throwIfStopped();
      await this.#source.checkUnchanged();
      const result = await this.#impl.finish(ctx, this.#state);
      this.#throwIfStopped();
      this.#finished = true;
      // The upload is whole on the server: the caller's abort no longer undoes it, so the session's
      // removal runs to its end (within ABANDON_TIMEOUT_MS) and the result is returned.
      await withDeadline(
        (deadline) => this.#sessions.forget(deadline),
        (seconds) =>
          new PartsError('ERR_STORE_FAILED', `the session store took more than ${seconds} s to remove a session`),
      );
      return result;
    } catch (error) {
      throw await this.#fail(error);
    } finally {
      unsubscribe?.();
    }
  }

  /** Resumes the saved session when the server still has it, else begins a new upload (and saves it at once). */
  async #prepare(ctx: PartsContext): Promise<void> {
    const signal = this.#controller.signal;
    const saved = await this.#sessions.load((stale) => this.#abandonQuietly(stale), signal);
    if (saved !== undefined) {
      this.#partSize = saved.partSize;
      this.#state = saved.state;
      if (await this.#resume(ctx, this.#state)) {
        this.#resumedBytes = this.#progress.loaded;
        return;
      }
      await this.#sessions.forget(signal);
    }
    this.#partSize = this.#impl.partSize(this.#source.size, this.#settings.partSize);
    this.#state = undefined;
    this.#state = await this.#impl.begin(ctx);
    await this.#sessions.save(this.#partSize, this.#state, signal);
  }

  /**
   * Asks the server what a saved session's upload holds. A failure to ask that may pass (the server
   * out of reach, a status the retry policy retries, 401 or 403 for credentials that can be
   * renewed, a function of the caller's that threw: a backend that presigns) says nothing of that
   * upload: it is kept, with its session, for a later run, rather than abandoned over an outage.
   * Any other refusal, or an answer that breaks the protocol, would meet every later run again:
   * the upload is abandoned, as after any failure.
   */
  async #resume(ctx: PartsContext, state: unknown): Promise<boolean> {
    try {
      return await this.#impl.resume(ctx, state);
    } catch (error) {
      const failure = this.#wrap(error, 'resume');
      if (this.#failure === undefined && this.#mayPass(failure)) this.#keepUpload = true;
      throw failure;
    }
  }

  #mayPass(failure: PartsError): boolean {
    if (failure.code === 'ERR_CALLBACK_FAILED') return true;
    if (failure.code !== 'ERR_START_FAILED') return false;
    const { status } = failure;
    return status === undefined || status === 401 || status === 403 || this.#settings.policy.statusCodes.has(status);
  }

  /** Runs the lanes `concurrency` at a time; the first failure stops them all. */
  async #runLanes(lanes: Array<() => Promise<void>>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (this.#failure === undefined && next < lanes.length) {
        const lane = lanes[next++]!;
        try {
          await lane();
        } catch (error) {
          this.#stop(error);
        }
      }
    };
    const workers = Math.min(this.#lanes(), lanes.length);
    this.#running = Math.max(1, workers);
    await Promise.all(Array.from({ length: workers }, worker));
    this.#throwIfStopped();
  }

  #lanes(): number {
    return Math.max(1, Math.min(this.#settings.concurrency, this.#impl.lanes(this.#settings.concurrency)));
  }

  /** Each request's share of maxRate, so that the pieces in flight together keep under it. */
  #rateShare(): number | undefined {
    const { maxRate } = this.#settings;
    return maxRate === undefined ? undefined : Math.max(1, Math.floor(maxRate / this.#running));
  }

  #stop(error: unknown, step: Step = 'piece'): void {
    if (this.#failure !== undefined) return;
    this.#failure = this.#wrap(error, step);
    this.#controller.abort(this.#failure);
  }

  #throwIfStopped(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  #report(loaded: number, total: number): void {
    const { onProgress } = this.#settings;
    if (onProgress === undefined) return;
    try {
      watchRejection(onProgress(loaded, total), this.#progressRejected);
    } catch (cause) {
      this.#stop(progressFailed(cause));
    }
  }

  /**
   * A failure that comes after the step that caused it (an async callback's rejection) stops the
   * pieces as a throw does, while they are being sent: once they all are, the upload is finished
   * (never abandoned) on the server's word.
   */
  readonly #failLate = (error: PartsError): void => {
    if (!this.#piecesSent) this.#stop(error);
  };

  /** An async onProgress's rejection, as a late failure. Made once. */
  readonly #progressRejected = (cause: unknown): void => this.#failLate(progressFailed(cause));

  /** The error the promise rejects with: the first failure, with what was stored and whether it was abandoned. */
  async #fail(error: unknown): Promise<PartsError> {
    this.#stop(error, 'start');
    const failure = this.#failure!;
    if (this.#state !== undefined) {
      failure.session = this.#impl.sessionId(this.#state);
      failure.stored = this.#impl.stored(this.#state);
      // Nothing left to resume or to abandon: the upload is gone, or what became of it cannot be known
      // (then the stored pieces may be part of it).
      if (failure.code === 'ERR_SESSION_EXPIRED' || failure.code === 'ERR_COMPLETE_UNKNOWN')
        await withDeadline((signal) => this.#sessions.forget(signal)).catch(() => {});
      else if (!this.#settings.keepSession && !this.#keepUpload && !this.#finished) await this.#abandon(failure);
    }
    return failure;
  }

  /** The abandon step, then the session's removal: within ABANDON_TIMEOUT_MS, the caller's functions and store included. */
  async #abandon(failure: PartsError): Promise<void> {
    await withDeadline(async (signal) => {
      try {
        await this.#impl.abandon(this.#context(signal), this.#state);
        failure.abandoned = true;
      } catch (error) {
        // Kept: a later run may still resume (or abandon) the upload the server holds.
        failure.abandonError = error instanceof Error ? error : new Error(messageOf(error));
        return;
      }
      await this.#sessions.forget(signal).catch(() => {});
    });
  }

  /** Abandons the upload of a saved session that cannot be resumed (the file changed, a partial plan); failures only leave it be. */
  async #abandonQuietly(state: unknown): Promise<void> {
    await withDeadline((deadline) =>
      this.#impl.abandon(this.#context(AbortSignal.any([this.#controller.signal, deadline])), state),
    ).catch(() => {});
  }

  #wrap(error: unknown, step: Step, url?: string | URL): PartsError {
    if (error instanceof PartsError) return error;
    const href = url === undefined ? undefined : String(url);
    // The encoder's own check of a source (a file that shrank, grew or was rewritten while read).
    if ((error instanceof UploadError || error instanceof MultipartError) && error.code === 'ERR_SIZE_MISMATCH')
      return new PartsError('ERR_SOURCE_CHANGED', `${step}: ${error.message}`, { cause: error, url: href });
    if (error instanceof UploadError) {
      const own = error.code === 'ERR_INVALID_OPTION' || error.code === 'ERR_CALLBACK_FAILED';
      const code = own ? error.code : stepCode(step);
      return new PartsError(code, `${step}: ${error.message}`, { cause: error, url: error.url ?? href });
    }
    return new PartsError(stepCode(step), `${step}: ${messageOf(error)}`, { cause: error, url: href });
  }

  #context(signal: AbortSignal): PartsContext {
    const transport = new Transport(this.#settings, this.#source, signal, {
      rate: () => this.#rateShare(),
      pool: this.#pool,
    });
    // Once this run has stopped, whatever fails on its signal fails for that reason.
    const reason = (error: unknown) =>
      signal === this.#controller.signal && this.#failure !== undefined
        ? this.#failure
        : signal.aborted
          ? (signal.reason ?? error)
          : error;
    const guard = async <T>(step: Step, url: string | URL | undefined, action: () => Promise<T>): Promise<T> => {
      if (signal.aborted) throw this.#wrap(reason(undefined), step, url);
      try {
        return await action();
      } catch (error) {
        throw this.#wrap(reason(error), step, url);
      }
    };
    const partSize = () => this.#partSize;
    const resumedBytes = () => this.#resumedBytes;
    return {
      size: this.#source.size,
      get partSize() {
        return partSize();
      },
      concurrency: this.#lanes(),
      policy: this.#settings.policy,
      signal,
      get resumedBytes() {
        return resumedBytes();
      },
      request: (request: ControlRequest) => guard(request.step, request.url, () => transport.request(request)),
      send: (piece: PieceRequest) => guard('piece', piece.url, () => this.#send(transport, piece)),
      digest: (start, end, algorithm) => guard('piece', undefined, () => transport.digest(start, end, algorithm)),
      confirm: (lane, bytes) => this.#progress.confirm(lane, bytes),
      save: (state) => {
        if (state !== undefined) this.#state = state;
        return guard('piece', undefined, () => this.#sessions.save(this.#partSize, this.#state, signal));
      },
      wait: (ms) => wait(ms, signal),
      fail: this.#failLate,
    };
  }

  async #send(transport: Transport, piece: PieceRequest): Promise<Awaited<ReturnType<Transport['send']>>> {
    this.#progress.sending(piece.lane, 0);
    try {
      const response = await transport.send(piece, (bytes) => this.#progress.sending(piece.lane, bytes));
      if (response.status >= 400) this.#progress.sending(piece.lane, 0);
      return response;
    } catch (error) {
      this.#progress.sending(piece.lane, 0);
      throw error;
    }
  }
}

/**
 * Runs `work` on a signal that aborts after ABANDON_TIMEOUT_MS with a PartsError saying so. Its
 * timer holds the process, so that a step that never settles still ends the call in time.
 */
async function withDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  late: (seconds: number) => PartsError = (seconds) =>
    new PartsError('ERR_COMPLETE_FAILED', `abandon: the step took more than ${seconds} s`),
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(late(ABANDON_TIMEOUT_MS / 1000)), ABANDON_TIMEOUT_MS);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function progressFailed(cause: unknown): PartsError {
  return new PartsError('ERR_CALLBACK_FAILED', `onProgress threw: ${messageOf(cause)}`, { cause });
}
