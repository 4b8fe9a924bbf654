import { UploadError } from '../common/errors.js';
import type { UploadControl } from './control.js';
import { holdAnswer, type FinalAnswer } from './final-answer.js';
import { HeaderList } from './header-list.js';
import { bodyFailure, NULL_BODY_STATUSES } from './response.js';

/** What the library's own requests read of an answer (a Response's `headers` has the same two methods). */
export interface AnswerHeaders {
  /** The values of `name` joined with ", ", or null. */
  get(name: string): string | null;
  has(name: string): boolean;
}

/** An answer as uploadPlain() hands it on: what a Response would hold, with its body read as text. */
export interface PlainAnswer {
  readonly status: number;
  readonly headers: AnswerHeaders;
  /** The URL that answered (after redirects). */
  readonly url: string;
  /**
   * The body as text, at most `limit` bytes of it, and whether it went past them (`cut`): the rest
   * is not read (the connection is then dropped). Read once; a body cut short is
   * `ERR_REQUEST_FAILED`, an abort or timeout its own error.
   */
  read(limit: number): Promise<{ text: string; cut: boolean }>;
}

/** uploadPlain()'s answer: the final answer's status and headers, its body read when asked for. */
export function plainAnswer(final: FinalAnswer, control: UploadControl): PlainAnswer {
  const { answer, url, method } = final;
  const { res } = answer;
  const done = holdAnswer(final, control);
  const status = res.statusCode ?? 0;
  let headers: HeaderList;
  try {
    headers = new HeaderList();
    for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  } catch (cause) {
    answer.req.destroy();
    throw new UploadError('ERR_UNEXPECTED_RESPONSE', `cannot read the response's headers (status ${status})`, {
      url,
      cause,
    });
  }
  res.on('error', () => {}); // errors reach read() through the iterator; without a listener they would crash the process
  let body: Promise<{ text: string; cut: boolean }> | undefined;
  if (NULL_BODY_STATUSES.has(status) || method === 'HEAD') {
    res.resume();
    res.once('end', done);
    res.once('error', done);
    body = Promise.resolve({ text: '', cut: false });
  }
  control.answered();
  return {
    status,
    headers,
    url,
    read: (limit) => (body ??= readText(res, limit, url).finally(done)),
  };
}

async function readText(
  res: FinalAnswer['answer']['res'],
  limit: number,
  url: string,
): Promise<{ text: string; cut: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = res[Symbol.asyncIterator]();
  try {
    for (;;) {
      const { value, done } = await iterator.next();
      if (done) break;
      chunks.push(value);
      size += value.length;
      if (size >= limit) {
        await iterator.return?.();
        break;
      }
    }
  } catch (error) {
    throw bodyFailure(error, url);
  }
  const whole = Buffer.concat(chunks);
  return { text: whole.subarray(0, limit).toString('utf8'), cut: whole.length > limit };
}
