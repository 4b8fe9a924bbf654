import type { Agent } from 'node:http';
import { UploadError } from '../common/errors.js';
import { watchRejection } from '../common/callback.js';
import { messageOf } from '../common/messages.js';
import { describe } from '../common/validate.js';
import { isAgent, type AgentForUrl } from './options.js';

/**
 * The agent for one hop: the caller's agent, or what the caller's function picks for this URL
 * (undefined: Node's global agent). A function that throws is ERR_CALLBACK_FAILED; one that
 * returns something else than an agent is ERR_INVALID_OPTION.
 */
export function agentForHop(option: Agent | AgentForUrl | undefined, url: URL): Agent | undefined {
  if (typeof option !== 'function') return option;
  let agent: unknown;
  try {
    agent = option(new URL(url.href)); // a copy: the caller cannot change where the hop goes
  } catch (cause) {
    throw new UploadError('ERR_CALLBACK_FAILED', `the agent function threw for ${url.href}: ${messageOf(cause)}`, {
      url: url.href,
      cause,
    });
  }
  if (agent !== undefined && !isAgent(agent)) {
    watchRejection(agent, () => {}); // an async function: refused for its promise, whose rejection says nothing more
    throw new UploadError(
      'ERR_INVALID_OPTION',
      `the agent function must return an http.Agent, an https.Agent or undefined, not ${describe(agent)} (for ${url.href})`,
      { url: url.href },
    );
  }
  return agent;
}

/**
 * A proxy agent's tunnel refused (its CONNECT answered anything but 200): a failure of the request,
 * over HTTP/1.1 and HTTP/2 alike, never the proxy's answer passed off as the origin's.
 */
export function proxyRefused(status: number | undefined, url: URL): UploadError {
  return new UploadError('ERR_REQUEST_FAILED', `the proxy answered ${status ?? 'nothing'} to CONNECT ${url.host}`, {
    url: url.href,
    cause: Object.assign(new Error(`CONNECT answered ${status}`), { code: 'ERR_PROXY_CONNECT' }),
  });
}

/**
 * What node:http throws synchronously while making a request, as an UploadError: an agent of the
 * other scheme (ERR_INVALID_PROTOCOL), a header it refuses (a forged body's), a TLS option it
 * cannot use. The original is `cause`.
 */
export function requestRefused(cause: unknown, url: URL): UploadError {
  const code = (cause as { code?: unknown } | null)?.code;
  if (code === 'ERR_INVALID_PROTOCOL') {
    return new UploadError(
      'ERR_INVALID_OPTION',
      `the agent for ${url.href} is for another scheme (${messageOf(cause)}); give an agent per scheme, or a function of the URL`,
      { url: url.href, cause },
    );
  }
  if (code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_HTTP_TOKEN' || code === 'ERR_HTTP_INVALID_HEADER_VALUE') {
    return new UploadError('ERR_INVALID_HEADER', `a request header was refused: ${messageOf(cause)}`, {
      url: url.href,
      cause,
    });
  }
  return new UploadError('ERR_INVALID_OPTION', `the request to ${url.href} could not be made: ${messageOf(cause)}`, {
    url: url.href,
    cause,
  });
}
