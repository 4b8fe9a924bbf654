import { upload, type EncodedBody, type UploadOptions } from '../index.js';
import { messageOf, withoutPassword, withoutSignatures } from '../common/messages.js';
import { head, writeAnswer } from './answer.js';
import { decodeAnswer } from './decode-answer.js';
import { encodeBody } from './body.js';
import { dryRun } from './dry-run.js';
import { classify, CliError } from './errors.js';
import { headerLines, Output, type Io } from './io.js';
import type { SendOptions } from './options.js';
import { createProgress, type ProgressDisplay } from './progress.js';
import { proxyRoutes, tunnelRefused, type ProxyRoutes } from './proxy.js';
import { readLimited } from './bounded-read.js';
import { retryFor } from './retry.js';
import { onInterrupt } from './signals.js';

export type { Io } from './io.js';

function progressFor(options: SendOptions, io: Io): ProgressDisplay | undefined {
  const wanted = options.progress ?? io.stderr.isTTY === true;
  if (!wanted) return undefined;
  return createProgress({ stream: io.stderr, style: io.stderr.isTTY ? 'bar' : 'lines' });
}

/** The --cacert file; one that cannot be read is exit 77, as in curl (also for the parts command). */
export async function readCa(path: string, signal?: AbortSignal): Promise<Buffer> {
  try {
    // Without blocking and bounded: a FIFO nobody writes to would hold the event loop, and with it
    // Ctrl-C, SIGTERM and SIGHUP; a device (/dev/zero) would fill memory. `signal` ends the wait.
    return await readLimited(path, signal === undefined ? {} : { signal });
  } catch (cause) {
    if (signal?.aborted) throw cause;
    throw new CliError('caFile', `cannot read --cacert ${JSON.stringify(path)}: ${messageOf(cause)}`, cause);
  }
}

function uploadOptions(
  options: SendOptions,
  io: Io,
  routes: ProxyRoutes | undefined,
  progress: ProgressDisplay | undefined,
  ca: Buffer | undefined,
): UploadOptions {
  return {
    ...(options.method === undefined ? {} : { method: options.method }),
    headers: options.headers,
    maxRedirects: options.location ? options.maxRedirects : 0,
    ...(options.expectContinue === undefined ? {} : { expectContinue: options.expectContinue }),
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    retry: retryFor(options, io),
    ...(options.http2 === false ? {} : { http2: options.http2 }),
    ...(options.maxRate === undefined ? {} : { maxRate: options.maxRate }),
    ...(routes === undefined ? {} : { agent: routes.agent }),
    tls: {
      ...(options.insecure ? { rejectUnauthorized: false } : {}),
      ...(ca === undefined ? {} : { ca }),
    },
    ...(progress === undefined
      ? {}
      : {
          onUploadProgress: (loaded: number, total: number | undefined) => progress.update(loaded, total),
          onBodySent: () => progress.waiting(),
        }),
  };
}

/** -v: the request line and headers, and the proxy of the first hop. */
function describeRequest(options: SendOptions, encoded: EncodedBody, routes: ProxyRoutes | undefined, io: Io): void {
  // Without the URLs' passwords and signatures: a -v log is what gets pasted into a bug report.
  io.stderr.write(`> ${options.method ?? 'POST'} ${withoutSignatures(withoutPassword(options.url!))}\n`);
  io.stderr.write(headerLines([...Object.entries(encoded.headers), ...options.headers], '> '));
  const proxy = routes?.route(options.url!);
  if (proxy !== undefined) io.stderr.write(`* via proxy ${withoutPassword(proxy)}\n`);
}

/** The error for a CONNECT the proxy refused on the way to `url` (curl's 56), if it did. */
function refusedTunnel(routes: ProxyRoutes | undefined, url: string): CliError | undefined {
  const refused = routes?.refusedTunnel(url);
  return refused === undefined ? undefined : tunnelRefused(refused, url);
}

/** The upload command: returns the exit code. */
export async function send(options: SendOptions, io: Io): Promise<number> {
  if (options.dryRun) return dryRun(options, io);
  const url = options.url!;
  const routes = await proxyRoutes(options.proxy);
  routes?.route(url); // a bad proxy in the environment is a usage error before anything is read
  const ca = options.cacert === undefined ? undefined : await readCa(options.cacert);
  const encoded = await encodeBody(options);
  if (options.verbose) describeRequest(options, encoded, routes, io);
  const progress = progressFor(options, io);
  const forget = progress === undefined ? undefined : onInterrupt(() => progress.finish());
  let response: Response;
  try {
    response = await upload(url, encoded, uploadOptions(options, io, routes, progress, ca));
  } catch (error) {
    // Over HTTP/2 a refused tunnel is a failure, not an answer: the same message as over HTTP/1.1.
    const failedUrl = (error as { url?: unknown }).url;
    const refused = typeof failedUrl === 'string' ? refusedTunnel(routes, failedUrl) : undefined;
    if (refused !== undefined) throw refused;
    const { kind, message } = classify(routes?.failure() ?? error, routes?.route);
    throw new CliError(kind, message, error);
  } finally {
    progress?.finish();
    forget?.();
  }
  const refused = refusedTunnel(routes, response.url);
  if (refused !== undefined) {
    await response.body?.cancel().catch(() => {});
    throw refused;
  }
  if (options.location && options.maxRedirects === 0) await refuseRedirect(response, options, io);
  return options.decode ? decodeAnswer(response, options, io) : writeAnswer(response, options, io);
}

/** The statuses upload() follows (src/http/redirect.ts), with a Location. */
const FOLLOWED = new Set([301, 302, 303, 307, 308]);

/**
 * -L --max-redirs 0: upload() takes maxRedirects 0 as "follow none" and hands the redirect over as
 * the answer; curl takes it as a limit, and a redirect past it is exit 47 ("Maximum (0) redirects
 * followed"). As curl, -i still writes its head; its body is dropped, as for a redirect followed.
 */
async function refuseRedirect(response: Response, options: SendOptions, io: Io): Promise<void> {
  const location = response.headers.get('location');
  // An empty Location is no redirect (src/http/redirect.ts), as in curl.
  if (!FOLLOWED.has(response.status) || location === null || location === '') return;
  await response.body?.cancel().catch(() => {});
  if (options.include && !options.decode) {
    const output = new Output(options.output, io);
    await output.write(head(response));
    await output.close();
  }
  throw new CliError(
    'redirects',
    `more than 0 redirects: the server redirected (${response.status}) to ${withoutPassword(location)}`,
  );
}
