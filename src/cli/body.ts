import { multipartEncode, rawBody, type EncodedBody } from '../index.js';
import { CliError } from './errors.js';
import type { SendOptions } from './options.js';
import { toParams } from './params.js';
import { STDIN, standardInput } from './stdin.js';

/** An AbortSignal that aborts with `reason()` after `ms`; its timer never keeps the process alive. */
function timeoutSignal(ms: number, reason: () => Error): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(reason()), ms);
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/**
 * The body the options describe: --data-binary/-T's file or standard input itself, or the
 * multipart form of -F. --timeout also bounds reading the inputs (`<file` values and standard
 * input): a FIFO or a pipe nobody writes to would otherwise wait forever.
 */
export async function encodeBody(options: SendOptions): Promise<EncodedBody> {
  const timeout = options.timeoutMs;
  const bound =
    timeout === undefined
      ? undefined
      : timeoutSignal(
          timeout,
          () =>
            new CliError(
              'timeout',
              `reading the inputs (-F <file values, standard input) took longer than ${timeout} ms`,
            ),
        );
  const signal = bound === undefined ? {} : { signal: bound.signal };
  try {
    return options.dataBinary === undefined ? await formBody(options, signal) : await rawFileBody(options, signal);
  } finally {
    bound?.clear();
  }
}

/** --data-binary and -T: the caller's -H Content-Type wins, as in curl; upload() sends it, --dry-run shows it. */
function rawFileBody(options: SendOptions, signal: { signal?: AbortSignal }): Promise<EncodedBody> {
  const typed = options.contentType === undefined ? {} : { type: options.contentType };
  // Standard input is spooled, as curl buffers it: the body gets its exact Content-Length and can be re-sent.
  if (options.dataBinary === STDIN) return rawBody(standardInput(), { ...typed, spool: true, ...signal });
  return rawBody(options.dataBinary!, typed);
}

async function formBody(options: SendOptions, signal: { signal?: AbortSignal }): Promise<EncodedBody> {
  return multipartEncode(await toParams(options.form, signal), {
    ...(options.boundary === undefined ? {} : { boundary: options.boundary }),
    ...(options.subtype === undefined ? {} : { subtype: options.subtype, parameters: options.parameters }),
    spool: true, // standard input (-F f=@-), as curl buffers it: the body keeps an exact length and can be re-sent
    ...signal,
  });
}
