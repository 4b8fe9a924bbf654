import type { ClientRequest, IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import { Readable, type Writable } from 'node:stream';
import { crypto } from '../common/lazy.js';
import { assertValidBoundary } from '../multipart/boundary.js';
import { Body, encodedBody, type EncodedForm } from '../multipart/encode.js';
import { MultipartError } from '../common/errors.js';
import type { MultipartParam } from '../multipart/param.js';
import { DEFAULT_BLOCK_SIZE, DEFAULT_SYNC_READ_LIMIT, streamPieces } from '../multipart/stream.js';
import { checkInteger, checkOptionKeys, encodeOptionError } from '../common/validate.js';
import { closeDelimiter, multipartContentType, type Piece } from '../multipart/wire.js';
import { endPass, failing, passStream, pullNext, type Pass } from './pass.js';
import { bodyLength, bufferOf, overheadLength, plan } from './plan.js';
import { submitForm, type Sendable } from './submit.js';
import { fieldOf, type FormDataAppendOptions, type Field } from './values.js';

/** How upload() recognises a body that encodes itself (from either build of the package). */
const ENCODED_BODY = Symbol.for('multipart-poster.encodedBody');

const CONSTRUCTOR_OPTIONS = ['highWaterMark', 'maxDataSize', 'pauseStreams', 'dataSize', 'readable', 'writable'];

/** Readable's own state, replaced to stream the body again: Node keeps no public way to restart a Readable. */
type Revivable = { _readableState: unknown };
const ReadableState = (
  Readable as unknown as { ReadableState?: new (options: object, stream: Readable, isDuplex: boolean) => unknown }
).ReadableState;

/**
 * A drop-in replacement for the `form-data` package's FormData: the same API, the same bytes for
 * the same appends and boundary, built on multipart-poster's encoder. Files given as
 * `fs.createReadStream()`s are measured by `stat` and opened only when their part is sent, one at a
 * time; the form can be sent again (a retry, a second `submit()`) when every value can be read again.
 */
export class FormData extends Readable {
  static readonly LINE_BREAK = '\r\n';
  static readonly DEFAULT_CONTENT_TYPE = 'application/octet-stream';

  /** Kept from form-data's options (form-data's stream combiner used it); it limits nothing here. */
  maxDataSize = 2 * 1024 * 1024;
  /** Kept from form-data's options; every value is paused until its part is reached anyway. */
  pauseStreams = true;
  /** Kept from form-data's options; always 0. */
  dataSize = 0;

  readonly #fields: Field[] = [];
  readonly #highWaterMark: number | undefined;
  #boundary: string | undefined;
  /** The caller chose the boundary: data is checked for its delimiter. */
  #chosen = false;
  /** Set once the body started streaming anywhere: its parts and boundary are fixed from then on. */
  #started = false;
  #planned: { boundary: string; pieces: Piece<Field>[] } | undefined;
  #pass: Pass = { chunks: undefined, pulling: false };
  /** Counts passes of this stream, so a destination of an earlier pass cannot end a later one. */
  #passes = 0;
  /** Where this pass is piped: destroyed with the form's error when the pass fails, as stream.pipeline does. */
  #destinations = new Set<NodeJS.WritableStream>();

  constructor(options?: FormData.Options) {
    const given = checkOptionKeys(options ?? undefined, CONSTRUCTOR_OPTIONS, encodeOptionError);
    const highWaterMark = checkInteger(given.highWaterMark, 'highWaterMark', encodeOptionError, 0, 2 ** 30);
    super(highWaterMark === undefined ? {} : { highWaterMark });
    this.#highWaterMark = highWaterMark;
    for (const key of ['maxDataSize', 'dataSize'] as const)
      if (given[key] !== undefined) this[key] = checkInteger(given[key], key, encodeOptionError)!;
    if (given.pauseStreams !== undefined) this.pauseStreams = Boolean(given.pauseStreams);
    // As form-data's: nothing flows until the form is piped or resumed, whatever listens to `data`.
    this.pause();
  }

  /**
   * Adds a part. `value`: a string, a number (sent as text), a Buffer or other bytes, a Blob or
   * File, an `fs.ReadStream`, an `http.IncomingMessage`, any other stream. A value that cannot
   * be sent is reported as form-data does, through the `error` event (thrown when nothing listens).
   */
  append(field: string, value: unknown, options?: FormData.AppendOptions | string): void {
    try {
      if (this.#started) throw started('append()');
      this.#fields.push(fieldOf(field, value, options));
      this.#planned = undefined;
    } catch (error) {
      this.emit('error', error);
    }
  }

  getHeaders(userHeaders?: FormData.Headers): FormData.Headers {
    const headers: FormData.Headers = { 'content-type': multipartContentType('form-data', this.getBoundary()) };
    if (userHeaders !== undefined && userHeaders !== null)
      for (const [name, value] of Object.entries(userHeaders)) headers[name.toLowerCase()] = value;
    return headers;
  }

  getBoundary(): string {
    // 128 random bits from crypto, 50 characters long as form-data's boundaries are.
    return (this.#boundary ??= `${'-'.repeat(18)}${crypto().randomBytes(16).toString('hex')}`);
  }

  /** Uses this boundary: a string RFC 2046 allows (TypeError otherwise, as form-data; MultipartError ERR_INVALID_BOUNDARY for an invalid one). */
  setBoundary(boundary: string): void {
    if (typeof boundary !== 'string')
      throw Object.assign(new TypeError('FormData boundary must be a string'), { code: 'ERR_INVALID_BOUNDARY' });
    if (this.#started) throw started('setBoundary()');
    assertValidBoundary(boundary);
    this.#boundary = boundary;
    this.#chosen = true;
    this.#planned = undefined;
  }

  /** The whole body as a Buffer; MultipartError ERR_NOT_IN_MEMORY when a part streams (a file, a Blob, a stream). */
  getBuffer(): Buffer {
    return bufferOf(this.#plan());
  }

  /** The body's exact length; MultipartError ERR_SIZE_UNKNOWN when a stream's size is unknown (give it `knownLength`). */
  getLengthSync(): number {
    const length = bodyLength(this.#plan());
    if (length === undefined) {
      const unknown = this.#fields.find(
        (field) =>
          typeof field.data === 'object' && !(field.data instanceof Uint8Array) && field.data.size === undefined,
      );
      throw new MultipartError(
        'ERR_SIZE_UNKNOWN',
        `Cannot calculate proper length in synchronous way: the ${describeSource(unknown)} has no known size; append it with knownLength`,
        { paramName: unknown?.name },
      );
    }
    return length;
  }

  hasKnownLength(): boolean {
    return this.#fields.every(
      (field) => typeof field.data !== 'object' || field.data instanceof Uint8Array || field.data.size !== undefined,
    );
  }

  /** Calls back (never synchronously) with the length, or with form-data's `'Unknown stream'` when a stream's size is unknown. */
  getLength(callback: (error: Error | string | null, length?: number) => void): void {
    if (typeof callback !== 'function') throw encodeOptionError('getLength() takes a callback');
    process.nextTick(() => {
      let length: number | undefined;
      try {
        length = bodyLength(this.#plan());
      } catch (error) {
        return callback.call(this, error as Error);
      }
      if (length === undefined) callback.call(this, 'Unknown stream');
      else callback.call(this, null, length);
    });
  }

  /** Sends the form with node:http(s) and returns the request; `callback` gets the response or the error. */
  submit(
    params: string | FormData.SubmitOptions,
    callback?: (error: Error | null, response?: IncomingMessage) => void,
  ): ClientRequest {
    return submitForm(this, params, callback, () => this.#sendable());
  }

  override toString(): string {
    return '[object FormData]';
  }

  get [Symbol.toStringTag](): string {
    return 'FormData';
  }

  /** Streams the body; piping a form whose last pass ended (or failed) sends it again from the start. */
  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    this.#revive();
    const pass = this.#passes;
    // A destination that goes away early (a failed request) stops the pass: its open file is closed.
    const stop = () => {
      if (pass === this.#passes && !this.readableEnded && this.listenerCount('data') === 0) this.destroy();
    };
    (destination as unknown as Readable).once?.('close', stop);
    // A failed pass ends its destinations: a request the form is piped into must not wait for the
    // rest of a body that will never come (node-fetch 2 pipes the form and never listens for its errors).
    this.#destinations.add(destination);
    const onUnpipe = (source: unknown) => {
      if (source !== this) return;
      this.#destinations.delete(destination);
      (destination as unknown as Readable).off?.('unpipe', onUnpipe);
    };
    (destination as unknown as Readable).on?.('unpipe', onUnpipe);
    return super.pipe(destination, options);
  }

  /**
   * A fresh pass over the body, apart from the stream's own (no `data` events): `for await` can go
   * over the form any number of times. Readable's iterator would leave a `readable` listener behind
   * on a destroyed stream, which keeps the next pipe() from flowing.
   */
  override [Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    return this.#chunks();
  }

  override _read(): void {
    pullNext(this, this.#pass, () => this.#chunks());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const destinations = [...this.#destinations];
    this.#destinations.clear();
    // The form reports the error through its own 'error' event: the destination's copy must not crash
    // a process that listens to the form alone (stream.pipeline listens to every stream it destroys).
    if (error)
      for (const destination of destinations as Partial<Writable>[]) {
        destination.once?.('error', () => {});
        destination.destroy?.(error);
      }
    endPass(this.#pass, error, callback);
  }

  /** @internal upload() sends what this returns: the body, with every retry and redirect a fresh pass. */
  [ENCODED_BODY](): EncodedForm {
    this.#started = true;
    const boundary = this.getBoundary();
    const pieces = this.#plan() as unknown as Piece<MultipartParam>[];
    const contentType = multipartContentType('form-data', boundary);
    const body = new Body(pieces, { ...this.#settings(), onProgress: this.#progress() }, { boundary, contentType });
    return Object.freeze({ ...encodedBody(body, pieces, contentType, []), boundary });
  }

  #plan(): Piece<Field>[] {
    const boundary = this.getBoundary();
    if (this.#planned?.boundary !== boundary)
      this.#planned = {
        boundary,
        pieces: plan(this.#fields, { boundary, disposition: 'form-data', chosen: this.#chosen }),
      };
    return this.#planned.pieces;
  }

  #settings() {
    return { blockSize: DEFAULT_BLOCK_SIZE, syncReadLimit: DEFAULT_SYNC_READ_LIMIT };
  }

  #progress() {
    return (_owner: unknown, loaded: number, total: number | undefined) =>
      void this.emit('uploadProgress', loaded, total);
  }

  /** A fresh pass over the body; the form is fixed from its first one. A body that cannot be planned fails the pass. */
  #chunks(): AsyncGenerator<Buffer, void, undefined> {
    this.#started = true;
    let pieces: Piece<Field>[];
    try {
      pieces = this.#plan();
    } catch (error) {
      return failing(error);
    }
    return streamPieces(pieces, { ...this.#settings(), total: bodyLength(pieces), onProgress: this.#progress() });
  }

  /** What submit() sends: a stream of a fresh pass, and the length for its Content-Length. */
  #sendable(): Sendable {
    this.#started = true;
    const length = bodyLength(this.#plan()); // throws what makes the body unsendable, before a request goes out
    return { length, stream: passStream(() => this.#chunks(), this.#highWaterMark) };
  }

  /** Makes an ended (or destroyed) form a fresh stream again, for one more pass over the body. */
  #revive(): void {
    if (!(this.readableEnded || this.destroyed) || ReadableState === undefined) return;
    (this as unknown as Revivable)._readableState = new ReadableState(
      this.#highWaterMark === undefined ? {} : { highWaterMark: this.#highWaterMark },
      this,
      false,
    );
    this.#pass = { chunks: undefined, pulling: false };
    this.#passes++;
    this.#destinations.clear();
    this.pause();
  }

  /** @internal form-data's byte count of the header blocks and the line break after each value; kept for code that reads it. */
  get _overheadLength(): number {
    return overheadLength(this.#fields, this.getBoundary());
  }

  /** @internal form-data's close delimiter; kept for code that calls it. */
  _lastBoundary(): string {
    return closeDelimiter(this.getBoundary());
  }
}

function started(what: string): MultipartError {
  return new MultipartError(
    'ERR_INVALID_PARAMS',
    `${what} after the form's body started streaming: its parts and boundary are fixed from then on`,
  );
}

function describeSource(field: Field | undefined): string {
  return field !== undefined && typeof field.data === 'object' && !(field.data instanceof Uint8Array)
    ? field.data.description
    : 'stream';
}

// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace FormData {
  /** `append()`'s options. */
  type AppendOptions = FormDataAppendOptions;

  interface Headers {
    [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  /** `submit()`'s options: those of `https.request` (`http.request`'s and TLS ones), with `protocol` choosing http or https. */
  interface SubmitOptions extends RequestOptions {
    protocol?: 'https:' | 'http:';
  }

  /** The constructor's options: form-data's. */
  interface Options {
    /** Bytes the stream buffers ahead of its consumer (Node's default when absent). */
    highWaterMark?: number;
    maxDataSize?: number;
    pauseStreams?: boolean;
    dataSize?: number;
    readable?: boolean;
    writable?: boolean;
  }
}
