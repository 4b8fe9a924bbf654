import type { AnswerMessage } from './attempt.js';
import { UploadError } from '../common/errors.js';
import { messageOf } from '../common/messages.js';
import type { UploadControl } from './control.js';
import { holdAnswer, type FinalAnswer } from './final-answer.js';

let webClasses: Promise<void> | undefined;

/**
 * The first `Headers` or `Response` made in a process loads Node's bundled undici synchronously
 * (10 to 40 ms). It is done once, alone in a turn of the event loop, so that the stall is never
 * added to the rest of an upload's work in one turn: an app that serves requests while it
 * uploads waits for one load, not for the load and the upload's setup together. A Node without
 * them (`--no-experimental-fetch`) rejects with ERR_RUNTIME_UNSUPPORTED, and the next call looks
 * again (an app may install them later).
 */
export function loadWebClasses(): Promise<void> {
  webClasses ??= new Promise<void>((resolve, reject) =>
    setImmediate(() => {
      try {
        void new Response(null, { headers: new Headers() });
      } catch (cause) {
        webClasses = undefined;
        reject(
          new UploadError(
            'ERR_RUNTIME_UNSUPPORTED',
            `upload() answers with a WHATWG Response, and this runtime has no Response or Headers (Node started with --no-experimental-fetch?): ${messageOf(cause)}`,
            { cause },
          ),
        );
        return;
      }
      setImmediate(resolve);
    }),
  );
  return webClasses;
}

/** Statuses whose answer has no body (Fetch's null body status), as a HEAD's has none. */
export const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** upload()'s answer: the final answer as a Response, whose body the caller reads. */
export function webAnswer(final: FinalAnswer, control: UploadControl): Response {
  const { answer, url, method, redirected } = final;
  const done = holdAnswer(final, control);
  try {
    const response = toWebResponse(answer.res, url, redirected, method, done);
    control.answered();
    return response;
  } catch (cause) {
    answer.req.destroy();
    throw new UploadError(
      'ERR_UNEXPECTED_RESPONSE',
      `cannot represent the response (status ${answer.res.statusCode})`,
      { url, cause },
    );
  }
}

/**
 * A WHATWG Response over a Node response, streamed (not buffered). `onDone` runs
 * once, when the body has been read to the end, has failed or was cancelled.
 */
function toWebResponse(
  res: AnswerMessage,
  url: string,
  redirected: boolean,
  method: string,
  onDone: () => void,
): Response {
  const headers = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  const status = res.statusCode ?? 0;
  // Errors reach the reader through the stream; without a listener they would crash the process.
  res.on('error', () => {});
  let body: ReadableStream<Uint8Array> | null = null;
  if (NULL_BODY_STATUSES.has(status) || method === 'HEAD') {
    res.resume();
    res.once('end', onDone);
    res.once('error', onDone);
  } else {
    body = streamOf(res, url, onDone);
  }
  const response = new Response(body, { status, statusText: reasonPhrase(res.statusMessage), headers });
  Object.defineProperty(response, 'url', { value: url });
  Object.defineProperty(response, 'redirected', { value: redirected });
  return response;
}

/**
 * The status line's text as a Response may hold it (RFC 9110's reason-phrase: tab, space, visible
 * ASCII and bytes over 0x7F), else none: Node's parser passes other control characters, which
 * would make the whole answer unrepresentable for the sake of a text nobody needs.
 */
function reasonPhrase(text: string | undefined): string {
  return text !== undefined && /^[\t\x20-\x7e\x80-\xff]*$/.test(text) ? text : '';
}

/** The response body as a web stream; a body cut short fails it with a typed UploadError (an abort or timeout with its own). */
function streamOf(res: AnswerMessage, url: string, onDone: () => void): ReadableStream<Uint8Array> {
  const chunks = res[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await chunks.next();
        if (done) {
          controller.close();
          onDone();
        } else {
          controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
        }
      } catch (error) {
        controller.error(bodyFailure(error, url));
        onDone();
      }
    },
    async cancel() {
      await chunks.return?.();
      onDone();
    },
  });
}

/** Why reading an answer's body failed: an abort or a timeout as it is, anything else a body cut short. */
export function bodyFailure(error: unknown, url: string): UploadError {
  return error instanceof UploadError
    ? error
    : new UploadError('ERR_REQUEST_FAILED', `the response body from ${url} was cut short: ${messageOf(error)}`, {
        url,
        cause: error,
      });
}
