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

  /**
   * The body's chunks. A body that ends without the server's END_STREAM (a reset with NO_ERROR or
   * CANCEL, a GOAWAY, a connection that closed) or short of its content-length throws ECONNRESET,
   * as a cut HTTP/1.1 body does: Node ends the stream quietly in those cases.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    let received = 0;
    try {
      for await (const chunk of this.#stream) {
        received += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    } catch (error) {
      // A cancel with an UploadError (an abort, a timeout) reaches the reader as that error, as over HTTP/1.1.
      const cause = (error as Error).cause;
      throw (error as Error).name === 'AbortError' && cause instanceof UploadError ? cause : error;
    }
    if (!this.#answer.ended()) throw cutShort('the stream ended without END_STREAM');
    const declared = this.headers['content-length'];
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) !== received)
      throw cutShort(`${received} bytes of the ${declared} in content-length`);
  }
}

function cutShort(why: string): Error {
  return Object.assign(new Error(why), { code: 'ECONNRESET' });
}

/**
 * Tells whether the server ended the stream. Node pushes the end of the readable side both when
 * END_STREAM arrives and when the stream closes otherwise (a reset with NO_ERROR): only the first
 * happens while the stream is still open.
 */
export function watchEndOfStream(stream: ClientHttp2Stream): () => boolean {
  let ended = false;
  const push = stream.push.bind(stream);
  stream.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk === null && !stream.closed && !stream.destroyed) ended = true;
    return push(chunk, encoding);
  };
  return () => ended;
}
