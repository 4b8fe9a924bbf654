import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ReceiveError } from './errors.js';
import { checkOptions, type CheckedOptions, type ReceiverOptions } from './limits.js';
import { receive } from './receive.js';
import { formatReport } from './report.js';
import { guardWrites } from './stall.js';
import { messageOf } from '../common/messages.js';

/**
 * After a refusal sent while the client is still sending, the request is read on (and dropped)
 * before the connection is closed, so that the client is not reset before it reads the answer:
 * up to this many bytes, for up to this long.
 */
export const LINGER = Object.freeze({ bytes: 64 * 1024 * 1024, ms: 10_000 });

/**
 * An HTTP server that answers every request with what it received: JSON, or a text table when
 * asked (`Accept: text/plain` or `?format=text`; `?format=json` or `Accept: application/json` for
 * JSON when the default is text). Options are checked here: ReceiveError ERR_INVALID_OPTION.
 */
export function createReceiver(options?: ReceiverOptions): Server {
  const checked = checkOptions(options);
  const server = createServer((req, res) => respond(req, res, checked));
  // A body announced over the limit is refused before the client is asked to send it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (
      Number(req.headers['content-length']) <= checked.limits.maxBodyBytes ||
      req.headers['content-length'] === undefined
    ) {
      res.writeContinue();
      toldToGoOn.add(req);
    }
    respond(req, res, checked);
  });
  return server;
}

/** Requests that sent `Expect: 100-continue` and were answered `100 Continue`: their bodies are on the way. */
const toldToGoOn = new WeakSet<IncomingMessage>();

function respond(req: IncomingMessage, res: ServerResponse, options: CheckedOptions): void {
  handle(req, res, options).catch(() => res.destroy());
}

async function handle(req: IncomingMessage, res: ServerResponse, options: CheckedOptions): Promise<void> {
  const text = wantsText(req, options.format);
  let refusal: ReceiveError;
  try {
    const report = await receive(req, options.limits);
    try {
      // An async onReport is waited for: its rejection is a failure like a throw, and answered as one.
      await settledWithin(options.onReport?.(report), options.limits.idleTimeoutMs);
      return answer(req, res, options, 200, text ? formatReport(report) : json(report), text);
    } catch (cause) {
      refusal = new ReceiveError('ERR_CALLBACK_FAILED', `onReport failed: ${messageOf(cause)}`, { cause });
    }
  } catch (error) {
    refusal =
      error instanceof ReceiveError
        ? error
        : new ReceiveError('ERR_MALFORMED_BODY', messageOf(error), { cause: error });
  }
  tellError(options.onError, refusal, req);
  answer(
    req,
    res,
    options,
    refusal.status,
    text ? `error: ${refusal.message}\n` : json({ error: refusal.message, code: refusal.code }),
    text,
  );
}

/** Writes the answer; a client that does not read it loses its connection (see guardWrites). */
function answer(
  req: IncomingMessage,
  res: ServerResponse,
  options: CheckedOptions,
  status: number,
  body: string,
  text: boolean,
): void {
  send(req, res, status, body, text);
  guardWrites(req.socket, options.limits.idleTimeoutMs);
}

/**
 * What a callback returned, awaited for at most `ms` (the idle timeout): a promise that never
 * settles fails its request rather than leave the client waiting for ever.
 */
async function settledWithin(returned: unknown, ms: number): Promise<void> {
  if (typeof returned !== 'object' || returned === null) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`it did not settle within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([returned, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls onError, not waiting for what it returns (it cannot change the answer, and the refusal
 * should not wait on a log): a throw, or the rejection of a promise it returns, is a process warning.
 */
function tellError(onError: CheckedOptions['onError'], refusal: ReceiveError, req: IncomingMessage): void {
  // Nothing else can be told: the answer stays the refusal.
  const warn = (cause: unknown) => process.emitWarning(`multipart-poster receiver: onError threw: ${messageOf(cause)}`);
  try {
    const returned: unknown = onError?.(refusal, req);
    if (typeof returned === 'object' && returned !== null) Promise.resolve(returned).catch(warn);
  } catch (cause) {
    warn(cause);
  }
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function wantsText(req: IncomingMessage, format: 'json' | 'text'): boolean {
  const url = req.url ?? '';
  const accept = req.headers.accept ?? '';
  if (/[?&]format=text\b/.test(url) || /^text\/plain/i.test(accept)) return true;
  if (/[?&]format=json\b/.test(url) || /^application\/json/i.test(accept)) return false;
  return format === 'text';
}

function send(req: IncomingMessage, res: ServerResponse, status: number, body: string, text: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const refusing = status >= 400;
  res.writeHead(status, {
    'content-type': text ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(refusing ? { connection: 'close' } : {}),
  });
  // A client that was never told to go on (Expect: 100-continue refused before its 100), or that
  // has sent everything, has nothing left to send: the connection can close with the answer.
  const neverToldToGoOn = req.headers.expect !== undefined && !toldToGoOn.has(req);
  if (!refusing || req.complete || neverToldToGoOn || status === 408) return void res.end(body);
  // The answer is on its way (its Content-Length says where it ends); the connection closes once the client stops sending.
  res.write(body);
  linger(req, () => res.end());
}

function linger(req: IncomingMessage, done: () => void): void {
  let bytes = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    req.off('data', count);
    done();
  };
  const count = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > LINGER.bytes) finish();
  };
  const timer = setTimeout(finish, LINGER.ms);
  req.on('data', count);
  req.once('end', finish);
  req.once('close', finish);
  req.on('error', () => {});
  req.resume();
}
