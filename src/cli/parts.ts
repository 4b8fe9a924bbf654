import {
  googleResumable,
  PartsError,
  s3Parts,
  tus,
  uploadParts,
  UploadError,
  type PartsProtocol,
  type UploadPartsOptions,
} from '../index.js';
import { foreignOption, optionLabel } from './args.js';
import { classify, CliError, EXIT } from './errors.js';
import { checkedPartUrl, httpUrl, uploadIdOf, urlCommand, urlList } from './parts-urls.js';
import { Output } from './io.js';
import { createProgress } from './progress.js';
import { proxyRoutes, tunnelRefused, type ProxyRoutes } from './proxy.js';
import { readCa, type Io } from './send.js';
import { withoutPassword } from '../common/messages.js';
import { visibleLine } from '../common/visible.js';

export interface PartsCommand {
  command: 'parts';
  protocol: 'tus' | 'google' | 's3';
  /** The tus endpoint, or the URL Google's session starts at. */
  url: string | undefined;
  partUrls: string | undefined;
  partCommand: string | undefined;
  completeUrl: string | undefined;
  abortUrl: string | undefined;
  listUrl: string | undefined;
  file: string;
  partSize: number | undefined;
  concurrency: number | undefined;
  resume: boolean;
  headers: Array<[string, string]>;
  timeoutMs: number | undefined;
  retry: number;
  /** -x: the proxy URL as given ('' for none), or undefined to read the environment. */
  proxy: string | undefined;
  /** --http1.1 (false), --http2 ('auto'), --http2-prior-knowledge (true): for every request. */
  http2: boolean | 'auto';
  /** --limit-rate: bytes per second across the pieces in flight. */
  maxRate: number | undefined;
  insecure: boolean;
  cacert: string | undefined;
  progress: boolean | undefined;
  verbose: boolean;
}

/** What the rest of the command line has already checked and parsed. */
export type SharedOptions = Pick<PartsCommand, 'headers' | 'timeoutMs' | 'retry' | 'proxy' | 'http2' | 'maxRate'>;

type Values = Record<string, string | boolean | string[] | undefined>;

const PROTOCOL_FLAGS = ['tus', 'resumable', 's3-part-urls', 's3-part-command'] as const;
const S3_ONLY = ['s3-complete', 's3-abort', 's3-list'] as const;
/** The upload in pieces the command line asks for, or undefined when it asks for none. */
export function partsCommand(
  values: Values,
  positionals: readonly string[],
  shared: () => SharedOptions,
): PartsCommand | undefined {
  const chosen = PROTOCOL_FLAGS.filter((flag) => values[flag] !== undefined);
  const extras = [...S3_ONLY, 'part-size', 'parallel', 'resume'].filter((flag) => values[flag] !== undefined);
  if (chosen.length === 0) {
    if (extras.length > 0)
      throw new CliError('usage', `--${extras[0]} goes with --tus, --resumable or --s3-part-urls/--s3-part-command`);
    return undefined;
  }
  if (chosen.length > 1) throw new CliError('usage', `--${chosen[0]} and --${chosen[1]} cannot be used together`);
  const flag = chosen[0]!;
  const clash = foreignOption(values, 'parts');
  if (clash !== undefined) throw new CliError('usage', `${optionLabel(clash)} cannot be used with --${flag}`);
  if (positionals.length > 0)
    throw new CliError(
      'usage',
      `--${flag} names where the file goes; no other URL is taken (${JSON.stringify(positionals[0])})`,
    );
  const file = values['upload-file'];
  if (typeof file !== 'string' || file === '')
    throw new CliError('usage', `--${flag} sends the file given with -T FILE`);
  if (file === '-')
    throw new CliError('usage', `--${flag} needs a file it can read again (to resume), not standard input`);
  const protocol = flag === 'tus' ? 'tus' : flag === 'resumable' ? 'google' : 's3';
  if (protocol !== 's3') {
    const s3Flag = S3_ONLY.find((name) => values[name] !== undefined);
    if (s3Flag !== undefined) throw new CliError('usage', `--${s3Flag} goes with --s3-part-urls or --s3-part-command`);
  }
  const url = protocol === 's3' ? undefined : httpUrl(values[flag] as string, `--${flag}`);
  const s3Url = (name: (typeof S3_ONLY)[number]) =>
    values[name] === undefined ? undefined : httpUrl(values[name] as string, `--${name}`);
  return {
    command: 'parts',
    protocol,
    url,
    partUrls: values['s3-part-urls'] as string | undefined,
    partCommand: values['s3-part-command'] as string | undefined,
    completeUrl: s3Url('s3-complete'),
    abortUrl: s3Url('s3-abort'),
    listUrl: s3Url('s3-list'),
    file,
    partSize: byteCount(values['part-size'] as string | undefined),
    concurrency: parallel(values.parallel as string | undefined),
    resume: values.resume === true,
    ...shared(),
    insecure: values.insecure === true,
    cacert: values.cacert as string | undefined,
    progress: values.progress ? true : values['no-progress'] ? false : undefined,
    verbose: values.verbose === true,
  };
}

const SUFFIXES: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function byteCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)([kmg]?)(i?b)?$/i.exec(value);
  const bytes = match ? Number(match[1]) * SUFFIXES[match[2]!.toLowerCase()]! : NaN;
  if (!(Number.isSafeInteger(bytes) && bytes >= 1))
    throw new CliError(
      'usage',
      `--part-size takes a number of bytes (8388608, 8M, 8MiB), not ${JSON.stringify(value)}`,
    );
  return bytes;
}

function parallel(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 64))
    throw new CliError('usage', `--parallel takes a whole number from 1 to 64, not ${JSON.stringify(value)}`);
  return n;
}

/** Runs the upload in pieces; Ctrl-C stops it (keeping the session with --resume, else abandoning the upload). */
export async function runParts(options: PartsCommand, io: Io): Promise<number> {
  const controller = new AbortController();
  let interrupted: number | undefined;
  const handlers = (
    [
      ['SIGINT', 130],
      ['SIGTERM', 143],
      ['SIGHUP', 129],
    ] as const
  ).map(([signal, code]) => {
    const handler = () => {
      interrupted = code;
      controller.abort();
    };
    process.once(signal, handler);
    return () => process.off(signal, handler);
  });
  const wanted = options.progress ?? Boolean(io.stderr.isTTY);
  const progress = wanted ? createProgress({ stream: io.stderr, style: io.stderr.isTTY ? 'bar' : 'lines' }) : undefined;
  let routes: ProxyRoutes | undefined;
  try {
    routes = await proxyRoutes(options.proxy);
    const { protocol, firstUrl } = await protocolFor(options, controller.signal);
    // A bad proxy in the environment is a usage error before anything is sent.
    const via = routes?.route(firstUrl);
    if (options.verbose && via !== undefined) io.stderr.write(`* via proxy ${withoutPassword(via)}\n`);
    const result = await uploadParts(options.file, {
      protocol,
      ...(await settingsFor(options, routes, controller.signal)),
      signal: controller.signal,
      ...(progress === undefined
        ? {}
        : { onProgress: (loaded: number, total: number) => progress.update(loaded, total) }),
    } as UploadPartsOptions<unknown>);
    progress?.finish();
    // Awaited, so that a stdout that cannot be written (a reader gone: EPIPE) is exit 23.
    await new Output(undefined, io).write(Buffer.from(describeResult(options, result)));
    return EXIT.ok;
  } catch (error) {
    progress?.finish();
    if (interrupted !== undefined) {
      io.stderr.write(`multipart-poster: interrupted${visibleLine(fateOnInterrupt(options, error))}\n`);
      return interrupted;
    }
    throw cliErrorOf(routes?.failure() ?? error, options, routes);
  } finally {
    for (const off of handlers) off();
  }
}

/**
 * What became of the server's upload once interrupted, as the library says it: without --resume it
 * is abandoned only where the abandon step ran and the server confirmed it, not with no --s3-abort
 * or a tus server without termination, whose upload stays; nothing is said when none was begun.
 */
function fateOnInterrupt(options: PartsCommand, error: unknown): string {
  if (options.resume) return '; the session is kept: run the same command to resume';
  if (!(error instanceof PartsError)) return '';
  if (error.abandoned) return '; the upload was abandoned';
  return error.abandonError === undefined ? '' : `; the upload was not abandoned: ${error.abandonError.message}`;
}

async function settingsFor(
  options: PartsCommand,
  routes: ProxyRoutes | undefined,
  signal: AbortSignal,
): Promise<Omit<UploadPartsOptions<unknown>, 'protocol'>> {
  return {
    ...(options.partSize === undefined ? {} : { partSize: options.partSize }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    store: options.resume ? undefined : false,
    keepSession: options.resume,
    retry: options.retry,
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    ...(options.http2 === false ? {} : { http2: options.http2 }),
    ...(options.maxRate === undefined ? {} : { maxRate: options.maxRate }),
    ...(routes === undefined ? {} : { agent: routes.agent }),
    tls: {
      ...(options.insecure ? { rejectUnauthorized: false } : {}),
      ...(options.cacert === undefined ? {} : { ca: await readCa(options.cacert, signal) }),
    },
  };
}

/** The protocol, and the first URL it sends to (the proxy is chosen, and checked, for it). */
async function protocolFor(
  options: PartsCommand,
  signal: AbortSignal,
): Promise<{ protocol: PartsProtocol<unknown>; firstUrl: string }> {
  const headers = Object.fromEntries(options.headers);
  const name = options.file.split(/[\\/]/).pop()!;
  if (options.protocol === 'tus') {
    const protocol = tus({ endpoint: options.url!, headers, metadata: { filename: name } });
    return { protocol: protocol as PartsProtocol<unknown>, firstUrl: options.url! };
  }
  if (options.protocol === 'google') {
    const protocol = googleResumable({ start: options.url!, headers, metadata: { name } });
    return { protocol: protocol as PartsProtocol<unknown>, firstUrl: options.url! };
  }
  const partUrl =
    options.partUrls !== undefined ? await urlList(options.partUrls, signal) : urlCommand(options.partCommand!, signal);
  const first = await partUrl(1);
  // The upload was started by whoever presigned the URLs: its id is in them.
  const uploadId = uploadIdOf(first);
  checkedPartUrl(first, 1, uploadId);
  const protocol = s3Parts({
    uploadId,
    // The object and the upload: URLs presigned for another upload of the same object (started
    // anew after a run was stopped) must not resume the session of the old one, whose parts that
    // upload does not hold.
    key: `${new URL(first).origin}${new URL(first).pathname}?uploadId=${encodeURIComponent(uploadId)}`,
    partUrl: async (n) => checkedPartUrl(await partUrl(n), n, uploadId),
    headers,
    ...(options.completeUrl === undefined ? {} : { completeUrl: () => options.completeUrl! }),
    ...(options.abortUrl === undefined ? {} : { abortUrl: () => options.abortUrl! }),
    ...(options.listUrl === undefined ? {} : { listUrl: listPage(options.listUrl) }),
  });
  return { protocol: protocol as PartsProtocol<unknown>, firstUrl: first };
}

/**
 * ListParts answers 1,000 parts a page: the next page is the same URL with its
 * `part-number-marker`. A presigned URL's query is signed, so it cannot be changed: an upload of
 * more parts is refused in words that say what to do, rather than asked the first page again.
 */
function listPage(url: string): (uploadId: string, marker?: number) => string {
  return (_uploadId, marker) => {
    if (marker === undefined) return url;
    const next = new URL(url);
    const signed = [...next.searchParams.keys()].some((name) =>
      /^(x-amz-signature|x-goog-signature|signature)$/i.test(name),
    );
    if (signed) {
      throw new CliError(
        'usage',
        `--s3-list: the upload holds more parts than one page of ListParts (1,000), and the URL is presigned, so the next page (part-number-marker=${marker}) cannot be asked for; resume without --s3-list (the session's record of the parts is then trusted), or give a URL that is not presigned`,
      );
    }
    next.searchParams.set('part-number-marker', String(marker));
    return next.href;
  };
}

function describeResult(options: PartsCommand, result: unknown): string {
  const r = result as Record<string, unknown>;
  if (options.protocol === 'tus') return `${String(r.url)}\n`;
  if (options.protocol === 'google') return String(r.body).endsWith('\n') ? String(r.body) : `${String(r.body)}\n`;
  const { uploadId, parts, completed, location, etag } = r;
  return `${JSON.stringify({ uploadId, completed, location, etag, parts })}\n`;
}

/** A PartsError as the command line reports it: its exit code, and what was stored. */
function cliErrorOf(error: unknown, options: PartsCommand, routes: ProxyRoutes | undefined): unknown {
  if (!(error instanceof PartsError)) return error;
  const tunnel = error.url === undefined ? undefined : routes?.refusedTunnel(error.url);
  if (tunnel !== undefined) return tunnelRefused(tunnel, error.url!);
  const kind =
    error.code === 'ERR_INVALID_OPTION'
      ? 'usage'
      : error.code === 'ERR_INVALID_VALUE' || error.code === 'ERR_SOURCE_CHANGED'
        ? 'read'
        : error.cause instanceof UploadError
          ? classify(error.cause, routes?.route).kind
          : error.cause instanceof CliError
            ? error.cause.kind
            : 'failure';
  const stored = error.stored.reduce((sum, piece) => sum + piece.end - piece.start, 0);
  const fate =
    error.stored.length === 0
      ? ''
      : options.resume && !error.abandoned
        ? ` (${stored} bytes stored; run the same command to resume)`
        : error.abandoned
          ? ` (the upload was abandoned)`
          : '';
  // The CLI's own part-URL function failed (its list, its command): its words, not the library's.
  const message = error.cause instanceof CliError ? error.cause.message : proxyNamed(error, routes);
  return new CliError(kind, `${message}${fate}`, error);
}

/**
 * The error's message, with a failure to reach the proxy told as the proxy's ("could not connect
 * to proxy HOST"), as a single upload tells it: the request's own words name only the URL it was
 * for, which reads as that server having refused.
 */
function proxyNamed(error: PartsError, routes: ProxyRoutes | undefined): string {
  const cause = error.cause;
  if (!(cause instanceof UploadError) || cause.url === undefined || routes?.route(cause.url) === undefined)
    return error.message;
  const { kind, message } = classify(cause, routes.route);
  if ((kind !== 'connect' && kind !== 'resolveProxy') || !error.message.endsWith(cause.message)) return error.message;
  return `${error.message.slice(0, error.message.length - cause.message.length)}${message}`;
}
