import { createWriteStream, readFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  multipartEncode,
  rawBody,
  upload,
  type EncodedBody,
  type RetryOptions,
  type UploadAttempt,
  type UploadOptions,
} from '../index.js';
import { CliError, EXIT } from './errors.js';
import { STDIN, toParams } from './form-args.js';
import { proxyUrl, type SendOptions } from './options.js';
import { createProgress, type ProgressDisplay } from './progress.js';

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

async function encode(options: SendOptions): Promise<EncodedBody> {
  // --timeout also bounds reading the inputs: `<file` values and standard input (a FIFO or a pipe
  // nobody writes to would otherwise wait forever).
  const timeout = options.timeoutMs;
  const signal =
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
  const bounded = signal === undefined ? {} : { signal: signal.signal };
  try {
    // The caller's -H Content-Type wins for a raw body, as in curl; rawBody() puts it in the headers --dry-run shows and upload() sends.
    if (options.dataBinary !== undefined) {
      const typed = options.contentType === undefined ? {} : { type: options.contentType };
      // Standard input is spooled, as curl buffers it: the body gets its exact Content-Length and can be re-sent.
      if (options.dataBinary === STDIN) return await rawBody(process.stdin, { ...typed, spool: true, ...bounded });
      return await rawBody(options.dataBinary, typed);
    }
    return await multipartEncode(await toParams(options.form, bounded), {
      ...(options.boundary === undefined ? {} : { boundary: options.boundary }),
      ...(options.subtype === undefined ? {} : { subtype: options.subtype, parameters: options.parameters }),
      spool: true, // standard input (-F f=@-), as curl buffers it: the body keeps an exact length and can be re-sent
      ...bounded,
    });
  } finally {
    signal?.clear();
  }
}

/** An AbortSignal that aborts with `reason()` after `ms`; its timer never keeps the process alive. */
function timeoutSignal(ms: number, reason: () => Error): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(reason()), ms);
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** Header lines as the bytes that go on the wire (values are byte strings: UTF-8 stays UTF-8). */
function headerLines(headers: Iterable<readonly [string, string]>, prefix = ''): Buffer {
  return Buffer.from([...headers].map(([name, value]) => `${prefix}${name}: ${value}\n`).join(''), 'latin1');
}

/** Where the response (or, for a dry run, the request) body goes. */
function destination(options: SendOptions, io: Io): Writable {
  if (options.output === undefined || options.output === '-') return io.stdout;
  const file = createWriteStream(options.output);
  file.on('error', () => {}); // reported by pipeline
  return file;
}

async function writeTo(
  target: Writable,
  source: AsyncIterable<Uint8Array>,
  options: SendOptions,
  io: Io,
): Promise<void> {
  try {
    await pipeline(source, target, { end: target !== io.stdout });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined && code.startsWith('E') && code !== 'ECONNRESET') {
      throw new CliError('write', `cannot write ${options.output ?? 'stdout'}: ${(error as Error).message}`, error);
    }
    throw error;
  }
}

const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY'];

/** An environment variable; undefined where the runtime does not let it be read (Deno without --allow-env): then no proxy comes from there. */
function readEnv(name: string): string | undefined {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
}

/**
 * The proxy for `url`, as curl picks it: -x, else the environment (read by proxy-from-env:
 * http_proxy/https_proxy/all_proxy, upper-case too), NO_PROXY applying to both. undefined: direct.
 */
async function proxyFor(url: string, options: SendOptions): Promise<string | undefined> {
  if (options.proxy === '') return undefined;
  if (options.proxy === undefined && !PROXY_VARIABLES.some((name) => readEnv(name))) return undefined; // nothing to load
  // proxy-from-env ships no types: its one function, as it documents it.
  const { getProxyForUrl } = (await import('proxy-from-env' as string)) as { getProxyForUrl: (url: string) => string };
  if (options.proxy === undefined) {
    const found = getProxyForUrl(url);
    return found === '' ? undefined : proxyUrl(found, 'the proxy in the environment');
  }
  // -x takes the place of the environment's proxies; proxy-from-env still decides NO_PROXY.
  const saved = { http_proxy: process.env.http_proxy, https_proxy: process.env.https_proxy };
  process.env.http_proxy = process.env.https_proxy = options.proxy;
  try {
    return getProxyForUrl(url) === '' ? undefined : options.proxy;
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** An agent through `proxy` for `url`: absolute-form requests for http, a CONNECT tunnel for https. Loaded only when a proxy is used. */
async function proxyAgent(url: string, proxy: string): Promise<Agent> {
  if (new URL(url).protocol === 'https:') {
    const { HttpsProxyAgent } = await import('https-proxy-agent');
    return new HttpsProxyAgent(proxy);
  }
  const { HttpProxyAgent } = await import('http-proxy-agent');
  return new HttpProxyAgent(proxy);
}

/**
 * curl's --retry: its transient errors, whatever the method (the body is re-sent byte for byte),
 * with its doubling delay. Without --retry, as in curl, nothing is retried (0: upload() would
 * otherwise use its own defaults).
 */
function retryFor(options: SendOptions, io: Io): RetryOptions | 0 {
  if (options.retry === 0) return 0;
  const transient = [408, 429, 500, 502, 503, 504];
  const everyError = Array.from({ length: 200 }, (_, i) => 400 + i);
  const delay = options.retryDelayMs;
  return {
    limit: options.retry,
    methods: [options.method ?? 'POST'],
    statusCodes: options.retryAllErrors && options.fail ? everyError : transient,
    // curl's transient failures: a timeout and a host that did not resolve; a refused connection with --retry-connrefused.
    errorCodes: options.retryAllErrors
      ? 'any'
      : ['ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', ...(options.retryConnrefused ? ['ECONNREFUSED'] : [])],
    backoff: delay === undefined ? (attempt) => Math.min(1000 * 2 ** (attempt - 1), 600_000) : () => delay,
    ...(options.retryMaxTimeMs === undefined ? {} : { maxRetryTime: options.retryMaxTimeMs }),
    onRetry: (info: UploadAttempt) => {
      const left = options.retry - info.attempt;
      const why = typeof info.reason === 'number' ? `HTTP ${info.reason}` : info.reason;
      io.stderr.write(
        `${io.stderr.isTTY ? '\r\x1b[K' : ''}multipart-poster: attempt ${info.attempt} failed (${why}); retrying in ${formatDelay(info.delay)}, ${left} ${left === 1 ? 'retry' : 'retries'} left\n`,
      );
    },
  };
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

function progressFor(options: SendOptions, io: Io): ProgressDisplay | undefined {
  const wanted = options.progress ?? io.stderr.isTTY === true;
  if (!wanted) return undefined;
  return createProgress({ stream: io.stderr, style: io.stderr.isTTY ? 'bar' : 'lines' });
}

/** The upload command: returns the exit code. */
export async function send(options: SendOptions, io: Io): Promise<number> {
  const encoded = await encode(options);
  if (options.dryRun) {
    io.stderr.write(headerLines(Object.entries(encoded.headers)));
    await writeTo(destination(options, io), encoded.body, options, io);
    return EXIT.ok;
  }

  const progress = progressFor(options, io);
  const tls: UploadOptions['tls'] = {
    ...(options.insecure ? { rejectUnauthorized: false } : {}),
    ...(options.cacert === undefined ? {} : { ca: readCa(options.cacert) }),
  };
  if (options.verbose) {
    io.stderr.write(`> ${options.method ?? 'POST'} ${options.url}\n`);
    io.stderr.write(headerLines([...Object.entries(encoded.headers), ...options.headers], '> '));
  }
  const retry = retryFor(options, io);
  const proxy = await proxyFor(options.url!, options);
  const agent = proxy === undefined ? undefined : await proxyAgent(options.url!, proxy);
  if (options.verbose && proxy !== undefined) io.stderr.write(`* via proxy ${proxy}\n`);
  let response: Response;
  try {
    response = await upload(options.url!, encoded, {
      ...(options.method === undefined ? {} : { method: options.method }),
      headers: options.headers,
      maxRedirects: options.location ? options.maxRedirects : 0,
      ...(options.expectContinue === undefined ? {} : { expectContinue: options.expectContinue }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
      retry,
      ...(agent === undefined ? {} : { agent }),
      tls,
      ...(progress === undefined
        ? {}
        : {
            onUploadProgress: (loaded: number, total: number | undefined) => progress.update(loaded, total),
            onBodySent: () => progress.waiting(),
          }),
    });
  } catch (error) {
    const code = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    if (
      proxy !== undefined &&
      (error as { code?: unknown }).code === 'ERR_REQUEST_FAILED' &&
      (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    ) {
      throw new CliError('resolveProxy', `could not resolve proxy ${new URL(proxy).hostname}`, error);
    }
    throw error;
  } finally {
    progress?.finish();
  }

  const target = destination(options, io);
  if (options.include) {
    // Where the body goes (stdout or the -o file), as curl writes them.
    const head = [
      `HTTP/1.1 ${response.status} ${response.statusText}`,
      ...[...response.headers].map(([name, value]) => `${name}: ${value}`),
    ];
    target.write(Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1')); // header values are byte strings
  }
  if (response.body) await writeTo(target, response.body as unknown as AsyncIterable<Uint8Array>, options, io);
  else if (target !== io.stdout) target.end();
  if (options.fail && response.status >= 400) {
    io.stderr.write(`multipart-poster: the server answered ${response.status} ${response.statusText}\n`);
    return EXIT.httpError;
  }
  return EXIT.ok;
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new CliError('read', `cannot read --cacert ${JSON.stringify(path)}: ${(cause as Error).message}`, cause);
  }
}
