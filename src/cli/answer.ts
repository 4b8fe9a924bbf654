import { CliError, EXIT, libraryError } from './errors.js';
import { Output, type Io } from './io.js';
import type { SendOptions } from './options.js';
import { visibleLine } from '../common/visible.js';

/** The answer's status for a message on the terminal: its text is the server's, escaped. */
export function statusOf(response: Response): string {
  return visibleLine(`${response.status} ${response.statusText}`.trimEnd());
}

/** The status line and headers as `-i` writes them, before the body, as curl writes them. */
export function head(response: Response): Buffer {
  const lines = [
    `HTTP/1.1 ${response.status} ${response.statusText}`.trimEnd(),
    ...[...response.headers].map(([name, value]) => `${name}: ${value}`),
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'); // header values are byte strings
}

/**
 * Writes the answer where it goes (stdout or -o, the head first with -i) and returns the exit code.
 * With --fail, as curl does, an answer of 400 or more writes no body (and creates no -o file
 * unless -i wrote the head there); --fail-with-body writes it.
 */
export async function writeAnswer(response: Response, options: SendOptions, io: Io): Promise<number> {
  const output = new Output(options.output, io);
  const failed = options.fail && response.status >= 400;
  if (options.include) await output.write(head(response));
  if (failed && !options.failWithBody) {
    await response.body?.cancel().catch(() => {});
  } else if (response.body !== null) {
    await copyAnswer(response, response.body, output);
  }
  if (output.opened || !failed) await output.close();
  if (!failed) return EXIT.ok;
  io.stderr.write(`multipart-poster: the server answered ${statusOf(response)}\n`);
  return EXIT.httpError;
}

/**
 * The answer's body to the output. When it stops before its end, curl's codes: 28 for --timeout,
 * 18 for an answer cut short (its connection closed, or reset, before the length it announced or
 * the end of its chunks: Node reports both as "aborted", so a reset is 18 here where curl says 56).
 */
async function copyAnswer(response: Response, body: ReadableStream<Uint8Array>, output: Output): Promise<void> {
  let received = 0;
  try {
    await output.copy(body as unknown as AsyncIterable<Uint8Array>, (size) => (received += size));
  } catch (error) {
    if (error instanceof CliError) throw error;
    const length = response.headers.get('content-length');
    const got = `${received}${length === null ? '' : ` of ${length}`} bytes of the answer received`;
    const code = libraryError(error)?.code;
    if (code === 'ERR_TIMEOUT') throw new CliError('timeout', `${(error as Error).message}; ${got}`, error);
    // The library types a body cut short as ERR_REQUEST_FAILED; anything else (an abort) is its own.
    if (code !== undefined && code !== 'ERR_REQUEST_FAILED') throw error;
    throw new CliError('partial', `the answer was cut short: ${got}`, error);
  }
}
