import type { Agent } from 'node:http';
import { UploadError, type UploadAttempt } from '../../common/errors.js';
import { sendAttempt, typed, type Answer, type AttemptRequest } from '../attempt.js';
import { sendH2 } from './attempt.js';
import type { TunnelAgent } from './connect.js';
import { connectFailure } from './errors.js';
import { H2Message } from './message.js';
import { Http2Pool } from './pool.js';

/** upload()'s `http2` option: false (HTTP/1.1), 'auto' (ALPN chooses, over https:) or true (HTTP/2 only). */
export type Http2Setting = boolean | 'auto';

/** The process's HTTP/2 sessions, shared by every upload (as node:http's global agent is). */
const sessions = new Http2Pool();

/**
 * One attempt over the protocol the hop gets: HTTP/1.1 (node:http, through the hop's agent) or
 * HTTP/2 (a pooled session, through the agent's CONNECT tunnel if it has one). Resolves to the
 * same Answer either way.
 */
export async function sendOverProtocol(
  request: AttemptRequest,
  http2: Http2Setting,
  signal: AbortSignal,
  attempts: readonly UploadAttempt[],
): Promise<Answer> {
  const { url } = request;
  if (http2 === false || (http2 === 'auto' && url.protocol === 'http:')) return sendAttempt(request, signal, attempts);
  const tunnel = tunnelOf(request.agent);
  if (tunnel === 'none') {
    if (http2 === 'auto') return sendAttempt(request, signal, attempts);
    throw new UploadError(
      'ERR_INVALID_OPTION',
      `http2: true cannot go through the agent for ${url.href}: only a CONNECT tunnel (an HttpsProxyAgent) can carry HTTP/2; use http2: 'auto' to send HTTP/1.1 through it`,
      { url: url.href },
    );
  }
  let acquired;
  try {
    acquired = await sessions.acquire(url, { mode: http2, tls: request.tls, tunnel }, signal);
  } catch (error) {
    throw signal.aborted ? (signal.reason as Error) : connectFailure(error, url, attempts);
  }
  if (acquired.protocol === 'http/1.1') {
    // ALPN chose HTTP/1.1: that socket is let go of, node:http (with the hop's agent) connects anew;
    // the answer is remembered, so this happens once per origin.
    acquired.socket?.destroy();
    return sendAttempt(request, signal, attempts);
  }
  const answer = await sendH2(acquired.lease, {
    url,
    method: request.method,
    headers: Object.entries(request.headers),
    body: request.body,
    signal,
    onUploadProgress: request.writer.onUploadProgress,
    onBodySent: request.writer.onBodySent,
    onLateFailure: request.writer.onLateFailure,
    maxRate: request.writer.maxRate,
    attempts,
    typed: (error) => typed(error, url, attempts),
  });
  const message = new H2Message(answer);
  return { res: message, req: { destroy: () => answer.close() }, bodySent: answer.bodySent };
}

/**
 * What the hop's agent means for HTTP/2: no agent (a direct connection), a CONNECT tunnel
 * (https-proxy-agent's HttpsProxyAgent: its `connect()` makes the tunnel and starts TLS inside
 * it), or 'none': an agent that can only carry HTTP/1.1 (a plain agent, an absolute-form proxy).
 */
function tunnelOf(agent: Agent | undefined): TunnelAgent | undefined | 'none' {
  if (agent === undefined) return undefined;
  const candidate = agent as Agent & { connect?: unknown };
  if (candidate.constructor?.name === 'HttpsProxyAgent' && typeof candidate.connect === 'function')
    return candidate as unknown as TunnelAgent;
  return 'none';
}
