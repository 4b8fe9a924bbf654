import { UploadError, type UploadAttempt } from '../common/errors.js';
import { onAbort } from '../common/abort.js';

/**
 * One upload's lifetime: the caller's signal and the timeout folded into one signal that every
 * attempt, wait and response body listens to, and the attempts retried so far.
 */
export class UploadControl {
  /** Attempts that failed and were retried; shared (live) with the errors this upload raises. */
  readonly attempts: UploadAttempt[] = [];
  readonly started = Date.now();
  /** When the timeout ends, in ms since the epoch (Infinity: no timeout). */
  readonly deadline: number;
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #signal: AbortSignal | undefined;
  #unsubscribe: () => void = () => {};
  /** Held here, and by the caller's signal until the answer is handed on (weakly after): dropped with the upload. */
  readonly #onUserAbort: () => void;
  #handedOn = false;

  /** Where the upload is going now (the last redirect's target): the URL its abort and timeout errors name. */
  url: string;

  constructor(signal: AbortSignal | undefined, timeout: number | undefined, url: string) {
    this.deadline = timeout === undefined ? Infinity : this.started + timeout;
    this.url = url;
    const attempts = this.attempts;
    this.#signal = signal;
    this.#onUserAbort = () =>
      this.#abort(
        new UploadError('ERR_ABORTED', 'the upload was aborted', { url: this.url, cause: signal?.reason, attempts }),
      );
    if (signal?.aborted) this.#onUserAbort();
    else if (signal !== undefined) this.#unsubscribe = onAbort(signal, this.#onUserAbort);
    if (timeout !== undefined) {
      // Ref'd until the answer is in: a stream that never yields must not let the process exit with the upload pending.
      this.#timer = setTimeout(
        () =>
          this.#abort(
            new UploadError('ERR_TIMEOUT', `the upload took longer than ${timeout} ms`, { url: this.url, attempts }),
          ),
        timeout,
      );
    }
  }

  /** Aborts (with ERR_ABORTED or ERR_TIMEOUT as its reason) when the caller aborts or the time is up. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Ends the upload with `reason` (a callback's late failure), as an abort ends it; once its answer
   * is handed on (or the upload is over), does nothing: the caller's Response is theirs to read.
   */
  readonly fail = (reason: UploadError): void => {
    // A function of its own (not a method): handed to a request's settings, it holds the control
    // alone, not the upload that made the request.
    if (!this.#handedOn) this.#abort(reason);
  };

  #abort(reason: UploadError): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /**
   * The answer is in and handed to the caller: the timer still ends a response body that takes too
   * long, but no longer keeps the process alive on its own. A body nobody reads would otherwise hold
   * the process open for the whole timeout; one being read is held open by its connection.
   */
  answered(): void {
    this.#handedOn = true;
    this.#timer?.unref();
    // From here the caller's Response holds the upload: dropped unread, nothing of it stays on their signal.
    if (this.#signal !== undefined && !this.#signal.aborted) {
      this.#unsubscribe();
      this.#unsubscribe = onAbort(this.#signal, this.#onUserAbort, { weakly: true });
    }
  }

  /** Releases the timer and the caller's signal; runs once the upload is over (its response body read, too). */
  finish(): void {
    this.#handedOn = true;
    clearTimeout(this.#timer);
    this.#unsubscribe();
  }
}
