import type { RetryPolicy } from '../http/retry.js';
import type { PartsError, StoredPiece } from './errors.js';
import type { AnswerHeaders } from '../http/plain-answer.js';

/** What each step of an upload in pieces is, for error messages and the error code a failed step gets. */
export type Step = 'start' | 'resume' | 'piece' | 'complete' | 'abandon';

/** Only a type: carries a protocol's result type to `uploadParts`. */
declare const RESULT: unique symbol;

/**
 * How pieces are sent, and how the whole is started, resumed, finished and abandoned: what
 * `s3Parts()`, `tus()` and `googleResumable()` return, for `uploadParts({ protocol })`.
 */
export interface PartsProtocol<Result> {
  readonly name: 's3' | 'tus' | 'google-resumable';
  /** Carries the result type to `uploadParts` (never set). */
  readonly [RESULT]?: Result;
}

/** A request of the protocol's own (start, status query, complete, abandon), its answer read whole (bounded). */
export interface ControlRequest {
  step: Step;
  url: string | URL;
  method: string;
  headers?: Record<string, string> | undefined;
  body?: string | Uint8Array | undefined;
  /** Retried by the caller's retry policy even though its method is POST (S3's complete is safe to repeat). */
  repeatable?: boolean;
  /**
   * Retries the protocol already made of this request itself (S3's complete after a 200 with a
   * transient `<Error>`): they count toward the caller's limit and number the attempts after them.
   */
  retriesBefore?: number;
  /** False: upload() does not retry it (a lane's status query: the lane counts and waits itself). */
  retry?: boolean;
  /** How many bytes of the answer are read at most (default 64 KiB; ListParts pages are larger). */
  limit?: number;
  /** False: a redirect is returned as the answer (Google's 308 is "Resume Incomplete", not a redirect). */
  redirects?: boolean;
}

export interface ControlResponse {
  status: number;
  headers: AnswerHeaders;
  text: string;
  /** The body went past the request's `limit`: `text` is its start only. */
  cut: boolean;
  url: string;
  /** How many times upload() sent a `repeatable` request again before this answer (0 for others). */
  retries: number;
}

/** One piece: the bytes `start`..`end` of the source, sent as the body of one request. */
export interface PieceRequest {
  /** The lane it belongs to (a sequence of pieces sent in order): progress counts the lane's piece in flight. */
  lane: number;
  url: string | URL;
  method: string;
  headers?: Record<string, string> | undefined;
  start: number;
  end: number;
  /** Computes the piece's MD5 from the chunks as they go out (not a second read). */
  md5?: boolean;
  /** Lets upload() send it again on a failure (S3 parts); offset protocols resume instead (false). */
  retry: boolean;
  /**
   * false: no `Expect: 100-continue` (upload() sends it for bodies over 1 MiB). Protocols that append
   * at an offset skip it: their servers judge a piece by its body, and the wait costs every piece.
   */
  expectContinue?: boolean;
  /** False: a redirect is returned as the answer (as for a ControlRequest). */
  redirects?: boolean;
  /** How many bytes of the answer are read at most (as for a ControlRequest). */
  limit?: number;
  /**
   * The body of a 2xx answer is not used (S3's part answer is in its headers): a failure reading it
   * (a reset, an answer cut short) does not fail a piece the server said it stored.
   */
  successBodyUnused?: boolean;
}

export interface PieceResponse extends ControlResponse {
  /** The MD5 of the bytes sent, when asked for and the whole piece went out. */
  md5: Buffer | undefined;
}

/** What the engine offers a protocol while an upload runs. */
export interface PartsContext {
  readonly size: number;
  readonly partSize: number;
  readonly concurrency: number;
  /** The caller's retry policy, for protocols that resume a failed piece from the server's offset. */
  readonly policy: RetryPolicy;
  readonly signal: AbortSignal;
  /** Bytes the server already held when this call began (a resumed session), else 0. */
  readonly resumedBytes: number;
  request(request: ControlRequest): Promise<ControlResponse>;
  send(piece: PieceRequest): Promise<PieceResponse>;
  /** A digest of the bytes `start`..`end`, read before a piece whose header must carry it. */
  digest(start: number, end: number, algorithm: DigestAlgorithm): Promise<Buffer>;
  /** The bytes of `lane` the server confirmed it holds (progress counts them; never more than the lane's range). */
  confirm(lane: number, bytes: number): void;
  /**
   * Writes the session as it is now to the store (coalesced; a no-op without a store). `begin`
   * passes the state it is building: from then on it is the upload's (saved, and abandoned on a failure).
   */
  save(state?: unknown): Promise<void>;
  /** Waits `ms`, or rejects when the upload stops. */
  wait(ms: number): Promise<void>;
  /**
   * Stops the upload with `error`, as a piece failed for good does: for a failure that arrives
   * later than the step that caused it (an async callback's rejection). Once every piece is sent it
   * is ignored: the upload is then finished on the server's word.
   */
  fail(error: PartsError): void;
}

export type DigestAlgorithm = 'md5' | 'sha1' | 'sha256' | 'crc32';

/** A protocol's part in an upload; `State` is what the session store keeps (plain JSON). */
export interface ProtocolImpl<Result, State> {
  readonly name: PartsProtocol<Result>['name'];
  /** Names the destination in the session store; undefined keeps no session. */
  readonly target: string | undefined;
  /** The piece size for a source of `size` bytes (checked, or the protocol's default). */
  partSize(size: number, requested: number | undefined): number;
  /** The most pieces in flight at once this protocol allows (1 for one that appends in order). */
  lanes(concurrency: number): number;
  begin(ctx: PartsContext): Promise<State>;
  /** Asks the server what it holds of a saved session and updates `state`; false when it is gone. */
  resume(ctx: PartsContext, state: State): Promise<boolean>;
  /** The work left, each a sequence of pieces that must go in order; the engine runs `concurrency` at once. */
  work(ctx: PartsContext, state: State): Array<() => Promise<void>>;
  finish(ctx: PartsContext, state: State): Promise<Result>;
  abandon(ctx: PartsContext, state: State): Promise<void>;
  stored(state: State): StoredPiece[];
  /** The upload's id on the server (UploadId, session URL). */
  sessionId(state: State): string;
  /** Checks a saved state's shape (it comes from a file): false if it cannot be this protocol's. */
  isState(value: unknown): value is State;
  /**
   * Whether a saved state (its shape checked) plans the whole of a source of `size` bytes in pieces
   * of `partSize` (itself checked by `partSize`): false for one that covers less (a run killed while
   * it made its uploads, an edited session), which is then abandoned rather than resumed.
   */
  fits(state: State, size: number, partSize: number): boolean;
}

// Global, so that a protocol made by one copy of the library (ESM or CommonJS) is recognised by another.
const IMPL = Symbol.for('multipart-poster.PartsProtocol');

export function makeProtocol<Result, State>(impl: ProtocolImpl<Result, State>): PartsProtocol<Result> {
  const protocol = { name: impl.name };
  Object.defineProperty(protocol, IMPL, { value: impl });
  return Object.freeze(protocol);
}

export function implOf(protocol: unknown): ProtocolImpl<unknown, unknown> | undefined {
  if (typeof protocol !== 'object' || protocol === null) return undefined;
  return (protocol as Record<symbol, ProtocolImpl<unknown, unknown> | undefined>)[IMPL];
}
