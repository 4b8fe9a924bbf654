import type { IncomingHttpHeaders } from 'node:http';
import type { ClientHttp2Stream } from 'node:http2';
import { UploadError } from '../../common/errors.js';
import type { H2Answer } from './attempt.js';

/**
 * An HTTP/2 answer as upload() handles an HTTP/1.1 one: the status, the headers (raw pairs too), the
 * body to read, resume or destroy. `destroy(error)` cancels the stream (RST_STREAM CANCEL) and the
 * reader gets `error` itself; `destroy()` lets go of it as `H2Answer.close()` does.
 */
export class H2Message {
  readonly statusCode: number;
  /** HTTP/2 has no reason phrase. */
  readonly statusMessage = '';
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[] = [];
  readonly #answer: H2Answer;
  readonly #stream: ClientHttp2Stream;

  constructor(answer: H2Answer) {
    this.#answer = answer;
    this.#stream = answer.stream;
    this.statusCode = answer.status;
    this.headers = answer.headers;
    for (const [name, value] of Object.entries(answer.headers)) {
      for (const one of Array.isArray(value) ? value : [value]) if (one !== undefined) this.rawHeaders.push(name, one);
    }
  }

  resume(): this {
    this.#stream.resume();
    return this;
  }

  destroy(error?: Error): this {
    if (error === undefined) this.#answer.close();
    else this.#answer.cancel(error);
    return this;
  }

  on(event: string, listener: (...args: never[]) => void): this {
    this.#stream.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once(event: string, listener: (...args: never[]) => void): this {
    this.#stream.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    try {
      for await (const chunk of this.#stream) yield chunk as Buffer;
    } catch (error) {
      // A cancel with an UploadError (an abort, a timeout) reaches the reader as that error, as over HTTP/1.1.
      const cause = (error as Error).cause;
      throw (error as Error).name === 'AbortError' && cause instanceof UploadError ? cause : error;
    }
  }
}
