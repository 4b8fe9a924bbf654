import { rawBody, upload, type EncodedBody } from '../index.js';
import { answerCutShort } from './decode-answer.js';
import { classify, CliError, libraryError } from './errors.js';
import { withoutPassword } from '../common/messages.js';

/** What `decode URL` asks for: the URL, its -H headers, its --timeout. */
export interface UrlInput {
  url: string;
  headers: [string, string][];
  timeoutMs: number | undefined;
}

/** An empty body sent as no body: a GET carries neither Content-Length nor Content-Type. */
async function noBody(): Promise<EncodedBody> {
  const empty = await rawBody(new Uint8Array(0));
  return {
    body: empty.body,
    headers: Object.freeze({}),
    contentLength: 0,
    toBlob: () => empty.toBlob(),
    toReadableStream: () => empty.toReadableStream(),
    dispose: () => empty.dispose(),
  };
}

/**
 * `decode URL`: a GET through upload(), as the upload command and --decode talk to servers, so a
 * failure has the same words and exit code there and here (refused 7, unknown host 6, too many
 * redirects 47, a port fetch() blocks is just a port). Redirects are followed, at most 5. A status
 * of 400 or more is exit 22, its body let go.
 */
export async function getAnswer(input: UrlInput): Promise<Response> {
  let response: Response;
  try {
    response = await upload(input.url, await noBody(), {
      method: 'GET',
      headers: input.headers,
      retry: 0,
      ...(input.timeoutMs === undefined ? {} : { timeout: input.timeoutMs }),
    });
  } catch (error) {
    if (libraryError(error)?.code === 'ERR_TIMEOUT')
      throw new CliError('timeout', `no answer from ${withoutPassword(input.url)} within ${input.timeoutMs} ms`, error);
    const { kind, message } = classify(error);
    throw new CliError(kind, message, error);
  }
  if (response.status >= 400) {
    await response.body?.cancel().catch(() => {});
    const status = `${response.status} ${response.statusText}`.trimEnd();
    throw new CliError('httpError', `GET ${response.url} was answered ${status}`);
  }
  return response;
}

/** A failure while the answer is split: cut short 18, timed out 28, as --decode says; else as it was. */
export function splitFailure(error: unknown, response: Response): unknown {
  return answerCutShort(error, response) ?? error;
}
