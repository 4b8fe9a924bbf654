import http, { type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { UploadError } from '../common/errors.js';
import { withoutPassword } from '../common/messages.js';
import { describe, encodeOptionError } from '../common/validate.js';

/** A fresh pass of the body, and its length when known (the request is chunked otherwise). */
export interface Sendable {
  readonly stream: Readable;
  readonly length: number | undefined;
}

interface SubmittingForm {
  getHeaders(userHeaders?: Record<string, unknown>): Record<string, unknown>;
  listenerCount(event: string): number;
  emit(event: string, ...args: unknown[]): boolean;
}

type SubmitCallback = (error: Error | null, response?: IncomingMessage) => void;
type SubmitParams = string | (RequestOptions & { protocol?: string });

/**
 * form-data's `submit()`: a POST (unless `method` says otherwise) of a fresh pass of the body with
 * its Content-Length, through node:http or node:https by the protocol; returns the request.
 * `callback` is called once: with the response, or with the first error before it. Unlike
 * form-data's, a URL keeps its query string and credentials, the caller's params object is not
 * changed, an answer that comes before the whole body stops the sending (the open file is
 * closed), a `timeout` ends the request with UploadError ERR_TIMEOUT, and a body that fails ends
 * the request with that error instead of leaving it open.
 */
export function submitForm(
  form: SubmittingForm,
  params: SubmitParams,
  callback: SubmitCallback | undefined,
  sendable: () => Sendable,
): ClientRequest {
  if (callback !== undefined && typeof callback !== 'function')
    throw encodeOptionError(`submit()'s callback must be a function, not ${describe(callback)}`);
  const options = requestOptions(params);
  options.headers = form.getHeaders(
    (typeof params === 'object' ? params.headers : undefined) as Record<string, unknown> | undefined,
  ) as RequestOptions['headers'];
  const request = (options.protocol === 'https:' ? https : http).request(options);
  let settled = false;
  const settle = (error: Error | null, response?: IncomingMessage) => {
    if (settled) return;
    settled = true;
    callback?.call(form, error, response);
  };
  if (callback !== undefined) request.on('error', (error) => settle(error));
  if (options.timeout !== undefined) {
    request.on('timeout', () =>
      request.destroy(
        new UploadError('ERR_TIMEOUT', `no answer within ${options.timeout} ms of silence`, { url: urlOf(options) }),
      ),
    );
  }
  let body: Sendable;
  try {
    body = sendable();
  } catch (error) {
    fail(form, request, error as Error, callback);
    return request;
  }
  send(form, request, body, callback, settle);
  return request;
}

function send(
  form: SubmittingForm,
  request: ClientRequest,
  body: Sendable,
  callback: SubmitCallback | undefined,
  settle: SubmitCallback,
): void {
  const { stream, length } = body;
  if (length !== undefined) request.setHeader('Content-Length', String(length));
  let sent = false;
  stream.once('end', () => (sent = true));
  stream.once('error', (error) => fail(form, request, error, callback));
  // A request that ends early (aborted, reset, answered) stops the body: its open file is closed.
  request.once('close', () => {
    if (!sent) stream.destroy();
  });
  request.once('response', (response) => {
    // After the answer, a write that fails (the server stopped reading) changes nothing.
    request.on('error', () => {});
    settle(null, response);
    if (sent) return;
    stream.unpipe(request);
    stream.destroy();
    // The request was cut short: its connection cannot carry another one.
    response.once('close', () => request.destroy());
  });
  stream.pipe(request);
}

/** The body failed: the request goes with it, and the error to whoever listens (the form's `error` listeners, the callback). */
function fail(form: SubmittingForm, request: ClientRequest, error: Error, callback: SubmitCallback | undefined): void {
  if (callback === undefined) request.on('error', () => {}); // reported through the form, as form-data does
  request.destroy(error);
  if (callback === undefined || form.listenerCount('error') > 0) form.emit('error', error);
}

function requestOptions(params: SubmitParams): RequestOptions & { protocol?: string } {
  if (typeof params === 'string') {
    let url: URL;
    try {
      url = new URL(params);
    } catch {
      // Node's TypeError would hold the URL whole (`input`): the message says as much, without a password.
      throw new UploadError('ERR_INVALID_URL', `invalid URL ${JSON.stringify(withoutPassword(params))}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UploadError('ERR_INVALID_URL', `only http: and https: URLs can be submitted to, not ${url.protocol}`, {
        url: withoutPassword(url.href),
      });
    }
    const auth =
      url.username === '' && url.password === ''
        ? {}
        : { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` };
    return {
      method: 'post',
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname + url.search,
      ...auth,
    };
  }
  if (typeof params !== 'object' || params === null)
    throw encodeOptionError(`submit() takes a URL or request options, not ${describe(params)}`);
  const options = { ...params };
  options.method ||= 'post';
  options.port ||= options.protocol === 'https:' ? 443 : 80;
  return options;
}

function urlOf(options: RequestOptions & { protocol?: string }): string {
  return `${options.protocol ?? 'http:'}//${options.hostname ?? options.host ?? 'localhost'}:${options.port ?? ''}${options.path ?? '/'}`;
}
