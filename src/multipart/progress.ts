import { watchRejection } from '../common/callback.js';
import { MultipartError } from '../common/errors.js';
import { messageOf } from '../common/messages.js';
import type { PartRecord } from './wire.js';

export type BodyCallback<Owner> = (owner: Owner | undefined, current: number, total: number | undefined) => void;
export type PartCallback<Owner> = (owner: Owner, current: number, total: number | undefined) => unknown;

/**
 * Counts bytes per part and for the body. `add` records bytes handed to the consumer; `report`
 * runs once the consumer has taken them. With no callback at all it records nothing: 100,000
 * fields then cost no bookkeeping.
 */
export class Progress<Owner> {
  readonly #onBody: BodyCallback<Owner> | undefined;
  readonly #onPart: PartCallback<Owner> | undefined;
  readonly #total: number | undefined;
  #body = 0;
  #pendingBytes = 0;
  /** The last part with bytes added since the last report: the body callback names its top-level owner. */
  #pendingPart: PartRecord<Owner> | undefined;
  /** With a part callback: (part, bytes) pairs added since the last report. */
  #unreported: Array<PartRecord<Owner> | number | undefined> = [];
  /** Bytes of each part seen so far, for the current top-level part and the parts inside it. */
  readonly #partBytes = new Map<PartRecord<Owner>, number>();
  #top: PartRecord<Owner> | undefined;
  #owner: Owner | undefined;
  #reported = false;
  /** An `async` callback's rejection, which came after its call: it fails the stream at the next report. */
  #late: MultipartError | undefined;

  constructor(
    onBody: BodyCallback<Owner> | undefined,
    onPart: PartCallback<Owner> | undefined,
    total: number | undefined,
  ) {
    this.#onBody = onBody;
    this.#onPart = onPart;
    this.#total = total;
  }

  /** Whether anyone listens: without a callback, `add` and `report` do nothing. */
  get listened(): boolean {
    return this.#onBody !== undefined || this.#onPart !== undefined;
  }

  add(part: PartRecord<Owner> | undefined, bytes: number): void {
    if (this.#onPart !== undefined) this.#unreported.push(part, bytes);
    else if (this.#onBody !== undefined) {
      this.#pendingBytes += bytes;
      if (part !== undefined) this.#pendingPart = part;
    }
  }

  /** Throws what an `async` callback rejected with since its call. */
  assertNoLateFailure(): void {
    if (this.#late !== undefined) throw this.#late;
  }

  report(): void {
    this.assertNoLateFailure();
    if (this.#onPart !== undefined) this.#reportParts(this.#onPart);
    else if (this.#onBody === undefined) return;
    else {
      this.#body += this.#pendingBytes;
      this.#pendingBytes = 0;
      if (this.#pendingPart !== undefined) this.#owner = topOf(this.#pendingPart).owner;
      this.#pendingPart = undefined;
    }
    this.#reported = true;
    const onBody = this.#onBody;
    if (onBody !== undefined) this.#guard('onProgress', onBody, this.#owner, this.#body, this.#total);
  }

  /** An empty body yields nothing; its consumer still hears that it is complete. */
  finish(): void {
    if (!this.#reported) this.report();
  }

  /**
   * Runs a caller's callback; what it throws fails the stream as ERR_CALLBACK_FAILED, with the throw
   * as cause. What an `async` one rejects with fails it at the next report (a body already over
   * has nothing left to fail).
   */
  #guard<O>(
    what: string,
    callback: (owner: O, current: number, total: number | undefined) => unknown,
    owner: O,
    current: number,
    total: number | undefined,
  ): void {
    let result: unknown;
    try {
      result = callback(owner, current, total);
    } catch (cause) {
      throw callbackFailed(what, cause);
    }
    // Only an async callback's promise makes a handler: a synchronous one costs nothing more.
    if (result !== undefined) watchRejection(result, (cause) => (this.#late ??= callbackFailed(what, cause)));
  }

  #reportParts(onPart: PartCallback<Owner>): void {
    const unreported = this.#unreported;
    for (let i = 0; i < unreported.length; i += 2) {
      const part = unreported[i] as PartRecord<Owner> | undefined;
      const bytes = unreported[i + 1] as number;
      this.#body += bytes;
      if (part === undefined) continue;
      const top = topOf(part);
      if (top !== this.#top) {
        // Only the current top-level part is kept: memory stays flat over 100,000 fields.
        this.#partBytes.clear();
        this.#top = top;
        this.#owner = top.owner;
      }
      for (let record: PartRecord<Owner> | undefined = part; record !== undefined; record = record.parent) {
        const seen = (this.#partBytes.get(record) ?? 0) + bytes;
        this.#partBytes.set(record, seen);
        const { owner, label, size } = record;
        this.#guard(
          label === undefined ? 'the cb of a part' : `the cb of field ${JSON.stringify(label)}`,
          onPart,
          owner,
          seen,
          size,
        );
      }
    }
    this.#unreported = [];
  }
}

function topOf<Owner>(part: PartRecord<Owner>): PartRecord<Owner> {
  let top = part;
  while (top.parent !== undefined) top = top.parent;
  return top;
}

function callbackFailed(what: string, cause: unknown): MultipartError {
  return new MultipartError('ERR_CALLBACK_FAILED', `${what} threw: ${messageOf(cause)}`, { cause });
}
