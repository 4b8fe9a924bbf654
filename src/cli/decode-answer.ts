import { DecodeError, multipartDecode } from '../index.js';
import type { ArgValues } from './args.js';
import { statusOf } from './answer.js';
import { splitParts } from './decode-write.js';
import { CliError, EXIT, libraryError } from './errors.js';
import type { Io } from './io.js';
import type { SendOptions } from './options.js';

/** --decode, checked against the options it cannot go with. */
export function decodeArg(values: ArgValues, dryRun: boolean): boolean {
  if (!values.decode) return false;
  if (dryRun) throw new CliError('usage', '--decode splits an answer: it needs a URL, not --dry-run');
  if (values.include)
    throw new CliError('usage', '--decode and -i cannot be used together: the parts carry their headers');
  if (values.output === '-') throw new CliError('usage', '--decode -o takes a folder, not -');
  return true;
}

/**
 * --decode: the answer's multipart body split into its parts as `multipart-poster decode` splits a
 * body (listed on stdout; with -o DIR, each part and its headers written there), and the exit code.
 * --fail and --fail-with-body apply as they do to a body written whole.
 */
export async function decodeAnswer(response: Response, options: SendOptions, io: Io): Promise<number> {
  const failed = options.fail && response.status >= 400;
  if (failed && !options.failWithBody) {
    await response.body?.cancel().catch(() => {});
  } else {
    try {
      const parts = multipartDecode(response, { contentType: multipartType(response) });
      await splitParts(parts, { dir: options.output, recursive: false, options: {} }, io.stdout);
    } catch (error) {
      throw answerFailure(error, response);
    } finally {
      // A body the decoder never took (a refused Content-Type) is let go; one it read is already.
      await response.body?.cancel().catch(() => {});
    }
  }
  if (!failed) return EXIT.ok;
  io.stderr.write(`multipart-poster: the server answered ${statusOf(response)}\n`);
  return EXIT.httpError;
}

/** The answer's Content-Type, when it is multipart; else a CliError that says what came instead. */
function multipartType(response: Response): string {
  const type = response.headers.get('content-type');
  if (type !== null && /^\s*multipart\//i.test(type)) return type;
  throw new CliError(
    'failure',
    `--decode: the answer (${statusOf(response)}) is not multipart: ${type === null ? 'no Content-Type' : `Content-Type ${type}`}`,
  );
}

/**
 * The answer stopped while it was split: cut short (18) or timed out (28), as without --decode;
 * undefined for any other failure. `decode URL` reads its answer the same way.
 */
export function answerCutShort(error: unknown, response: Response): CliError | undefined {
  if (!(error instanceof DecodeError) || error.code !== 'ERR_SOURCE_FAILED') return undefined;
  const cause = libraryError(error.cause);
  const length = response.headers.get('content-length');
  const got = `${error.offset ?? 0}${length === null ? '' : ` of ${length}`} bytes of the answer received`;
  if (cause?.code === 'ERR_TIMEOUT') return new CliError('timeout', `${(error.cause as Error).message}; ${got}`, error);
  if (cause?.code === 'ERR_REQUEST_FAILED') return new CliError('partial', `the answer was cut short: ${got}`, error);
  return undefined;
}

/**
 * The exit code of a failure while splitting: the answer cut short or timed out as without
 * --decode (18, 28); a body that is not a multipart body it can split, 1; writing, 23.
 */
function answerFailure(error: unknown, response: Response): unknown {
  if (!(error instanceof DecodeError)) return error;
  const cut = answerCutShort(error, response);
  if (cut !== undefined) return cut;
  const type = response.headers.get('content-type') ?? '';
  return new CliError(
    'failure',
    `--decode: the answer (${statusOf(response)}, ${type}) cannot be split: ${error.message}`,
    error,
  );
}
