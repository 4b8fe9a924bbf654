import { HTTP2_ERROR_NAMES } from '../common/http2-codes.js';
import type { Classified } from './errors.js';

/** The proxy a URL is sent through, or undefined when it goes direct. */
export type Route = (url: string) => string | undefined;

const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);

/** llhttp's codes for a status line that is not HTTP/1.x at all: curl's 1 ("unsupported HTTP version"), not 8. */
const NOT_HTTP_CODES = new Set(['HPE_INVALID_CONSTANT', 'HPE_INVALID_VERSION', 'HPE_INVALID_STATUS']);

/**
 * An HTTP/2 reset or connection error, named by its RFC 9113 code (`cause.code`, docs/http2.md):
 * curl exits 92 on each. REFUSED_STREAM and GOAWAY (a request the server did not process,
 * retried as such) stay failures while receiving (56), as in curl.
 */
const HTTP2_ERROR_CODES = new Set(HTTP2_ERROR_NAMES.filter((name) => name !== 'REFUSED_STREAM'));

interface Failure {
  code: string;
  syscall: string | undefined;
  message: string;
  /** The host (and port) the failure is about: the target's, or the proxy's when the URL went through one. */
  host: string;
  proxy: string | undefined;
  /** The library's mark: the failure ended a TLS connection before its handshake completed. */
  beforeHandshake: boolean;
}

function safeUrl(url: string | undefined): URL | undefined {
  return url !== undefined && URL.canParse(url) ? new URL(url) : undefined;
}

/** What an ERR_REQUEST_FAILED says about the network: its cause's code, and where it was headed. */
function describeFailure(error: Error & { url?: string }, route: Route): Failure {
  const cause = error.cause as (NodeJS.ErrnoException & { tlsHandshakeIncomplete?: unknown }) | undefined;
  const target = safeUrl(error.url);
  const proxy = error.url === undefined ? undefined : route(error.url);
  const via = safeUrl(proxy);
  return {
    // No cause: upload() saw the connection close before any answer (Node's "socket hang up" too).
    code: cause?.code ?? 'ECONNRESET',
    syscall: cause?.syscall,
    message: cause?.message ?? 'socket hang up',
    host: via?.host ?? target?.host ?? 'the server',
    proxy: via === undefined ? undefined : via.host,
    beforeHandshake: cause?.tlsHandshakeIncomplete === true,
  };
}

/** ERR_REQUEST_FAILED: the exit code of the network failure under it, with curl's numbers. */
export function networkFailure(error: Error & { url?: string }, route: Route): Classified {
  const failure = describeFailure(error, route);
  const { code, host, proxy } = failure;
  const where = proxy === undefined ? host : `proxy ${proxy}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return proxy === undefined
      ? { kind: 'resolve', message: `could not resolve host ${name}` }
      : { kind: 'resolveProxy', message: `could not resolve proxy ${name}` };
  }
  if (CONNECT_CODES.has(code) && failure.syscall !== 'read' && failure.syscall !== 'write')
    return { kind: 'connect', message: `could not connect to ${where}: ${code}` };
  if (CERTIFICATE_CODES.has(code))
    return {
      kind: 'certificate',
      message: `the certificate of ${host} is not trusted: ${failure.message} (use --cacert or --insecure)`,
    };
  return tlsFailure(failure) ?? exchangeFailure(failure, where);
}

/** OpenSSL's reason in a message such as `write EPROTO 80..:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:file:line:`. */
function opensslReason(message: string): string {
  const reason = /error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:\n]+)/.exec(message)?.[1];
  return reason ?? message.split('\n')[0]!.trim();
}

/**
 * What OpenSSL says when the bytes it reads are not TLS records: a plain-HTTP answer read as one.
 * Node 20 reports it as "wrong version number"; Node 22 and 24, with upload() holding a failed
 * write's error back to read an early answer, as an "internal error" while reading records.
 */
const NOT_TLS = /wrong version number|packet length too long|http request|tls_default_read_n:internal error/i;

const isTlsCode = (code: string) => code === 'EPROTO' || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_');

/**
 * A TLS handshake that failed for a reason other than trust: curl's 35. That is also a reset or a
 * close before the handshake completed (connected, so not 7): a plain-HTTP server answers a
 * ClientHello with a 400 and closes with it unread, and the reset may come before OpenSSL reads
 * the answer as a bad record. The server then most likely does not speak TLS: the hint says so.
 */
function tlsFailure({ code, message: full, host, beforeHandshake }: Failure): Classified | undefined {
  if (!beforeHandshake && !isTlsCode(code)) return undefined;
  const plain = NOT_TLS.test(full) || (beforeHandshake && !isTlsCode(code));
  const hint = plain ? ` (does the server speak TLS there? If not, the URL is http://${host})` : '';
  return { kind: 'tls', message: `the TLS handshake with ${host} failed: ${opensslReason(full)}${hint}` };
}

/** A failure once connected: no answer at all, a reset, or an answer that is not HTTP. */
function exchangeFailure({ code, syscall, message }: Failure, where: string): Classified {
  if (code === 'ECONNRESET' && message === 'socket hang up')
    return { kind: 'emptyReply', message: `empty reply: ${where} closed the connection without answering` };
  if (code === 'EPIPE' || (code === 'ECONNRESET' && syscall === 'write'))
    return { kind: 'send', message: `the connection to ${where} was reset while sending: ${code}` };
  if (code === 'ECONNRESET')
    return { kind: 'receive', message: `the connection to ${where} was reset while receiving: ${code}` };
  if (NOT_HTTP_CODES.has(code))
    return { kind: 'unsupported', message: `the answer of ${where} is not HTTP/1.x: ${message} (${code})` };
  if (code.startsWith('HPE_'))
    return { kind: 'weirdReply', message: `the answer of ${where} is not valid HTTP: ${message} (${code})` };
  if (HTTP2_ERROR_CODES.has(code) || code.startsWith('UNKNOWN_0x'))
    return { kind: 'http2Stream', message: `the HTTP/2 exchange with ${where} failed: ${message}` };
  return {
    kind: 'receive',
    message: `the exchange with ${where} failed: ${message}${message.includes(code) ? '' : ` (${code})`}`,
  };
}
