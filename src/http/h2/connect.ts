import { EventEmitter } from 'node:events';
import type { ClientHttp2Session } from 'node:http2';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { UploadError } from '../../common/errors.js';
import { proxyRefused } from '../agent.js';
import { markIncomplete } from '../handshake.js';

/** `http2` of upload(): `true` speaks HTTP/2 only (prior knowledge over http:), 'auto' lets ALPN choose. */
export type Http2Mode = true | 'auto';

/** The TLS settings a connection is made with (upload()'s `tls` option, its client certificate dropped across origins). */
export type TlsSettings = Pick<
  ConnectionOptions,
  'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername' | 'minVersion'
>;

/**
 * A proxy that tunnels by CONNECT (https-proxy-agent's HttpsProxyAgent, or anything with its
 * `connect(req, options)`): it makes the tunnel, sends the proxy's credentials, and starts TLS
 * to the origin inside it with the options it is given (ALPN included).
 */
export interface TunnelAgent {
  connect(req: EventEmitter, options: object): Promise<Duplex> | Duplex;
}

export interface ConnectOptions {
  mode: Http2Mode;
  tls: TlsSettings | undefined;
  tunnel: TunnelAgent | undefined;
}

/** A new connection: an HTTP/2 session, or (ALPN chose HTTP/1.1 under 'auto') the TLS socket it negotiated. */
export type Connected = { protocol: 'h2'; session: ClientHttp2Session } | { protocol: 'http/1.1'; socket: TLSSocket };

/** Client SETTINGS: no server push (uploads never want it). */
const SETTINGS = { enablePush: false };

/**
 * Opens a connection to `url`'s origin. Over https:, ALPN offers h2 (and http/1.1 under 'auto');
 * over http: it is HTTP/2 with prior knowledge (h2c). Resolves once the server's SETTINGS have
 * arrived, so its stream limit is known before a request is sent and a peer that does not speak
 * HTTP/2 fails here. `cancel` destroys whatever is being set up.
 */
export function connect(url: URL, options: ConnectOptions): { done: Promise<Connected>; cancel: () => void } {
  let cancelled = false;
  let current: { destroy(): void } | undefined;
  const track = <T extends { destroy(): void }>(resource: T): T => {
    current = resource;
    if (cancelled) resource.destroy();
    return resource;
  };
  const done = (async (): Promise<Connected> => {
    const http2 = await import('node:http2');
    let socket: Duplex | undefined;
    if (url.protocol === 'https:') {
      const tlsSocket = track(
        await secureSocket(url, options, track).catch((error: NodeJS.ErrnoException) => {
          // A server whose ALPN offers no h2 may refuse the handshake instead of choosing http/1.1.
          if (error.code !== 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') throw error;
          throw notHttp2(url, 'its TLS refused ALPN h2');
        }),
      );
      if (tlsSocket.alpnProtocol !== 'h2') {
        if (options.mode === 'auto') return { protocol: 'http/1.1', socket: tlsSocket };
        tlsSocket.destroy();
        throw notHttp2(url, `ALPN chose ${tlsSocket.alpnProtocol || 'no protocol'}`);
      }
      socket = tlsSocket;
    } else if (options.tunnel !== undefined) {
      // https-proxy-agent keeps whatever the origin sends right after the proxy's 200 (an h2c
      // server speaks first: its SETTINGS) and never hands it on: the session would start mid-frame.
      throw new UploadError(
        'ERR_INVALID_OPTION',
        `HTTP/2 with prior knowledge (http2: true over http:) cannot go through a proxy's CONNECT tunnel; use https: (h2 by ALPN inside the tunnel) or http2: 'auto' (HTTP/1.1)`,
        { url: url.href },
      );
    }
    if (cancelled) throw new Error('cancelled');
    const session = track(
      http2.connect(url.origin, {
        settings: SETTINGS,
        ...(socket === undefined ? {} : { createConnection: () => socket }),
      }),
    );
    await settingsOf(session, url, socket === undefined);
    return { protocol: 'h2', session };
  })();
  return {
    done,
    cancel: () => {
      cancelled = true;
      current?.destroy();
    },
  };
}

function notHttp2(url: URL, why: string, original?: Error): UploadError {
  const cause = new Error(why, original === undefined ? undefined : { cause: original });
  return new UploadError(
    'ERR_REQUEST_FAILED',
    `${url.host} does not speak HTTP/2 (${why}); use http2: 'auto' to fall back to HTTP/1.1`,
    { url: url.href, cause: Object.assign(cause, { code: 'ERR_HTTP2_NOT_NEGOTIATED' }) },
  );
}

/**
 * Waits for the server's first SETTINGS; a session that fails or closes first rejects. With prior
 * knowledge (h2c), a protocol error before them means the server does not speak HTTP/2 (an
 * HTTP/1.1 server answers the preface with a 400, which nghttp2 cannot parse as a frame).
 */
function settingsOf(session: ClientHttp2Session, url: URL, priorKnowledge: boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      cleanup();
      session.destroy();
      const protocolError = error.code?.startsWith('ERR_HTTP2') === true;
      reject(
        priorKnowledge && protocolError ? notHttp2(url, `what it sent is not HTTP/2: ${error.message}`, error) : error,
      );
    };
    const onClose = () => {
      cleanup();
      reject(notHttp2(url, 'the connection closed before the server sent its HTTP/2 settings'));
    };
    const onSettings = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      session.off('error', onError);
      session.off('close', onClose);
      session.off('remoteSettings', onSettings);
    };
    session.on('error', onError);
    session.on('close', onClose);
    session.once('remoteSettings', onSettings);
  });
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function portOf(url: URL): number {
  return Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
}

/** The options for TLS to the origin: SNI as node:https sets it (a name, never an IP), and ALPN. */
function tlsOptions(url: URL, options: ConnectOptions): ConnectionOptions & { host: string; port: number } {
  const host = hostOf(url);
  const servername = options.tls?.servername ?? (isIP(host) === 0 ? host : undefined);
  return {
    ...options.tls,
    host,
    port: portOf(url),
    ...(servername === undefined ? {} : { servername }),
    ALPNProtocols: options.mode === 'auto' ? ['h2', 'http/1.1'] : ['h2'],
  };
}

/** A TLS connection to the origin, directly or through the tunnel; resolves once the handshake is done. */
async function secureSocket(
  url: URL,
  options: ConnectOptions,
  track: <T extends { destroy(): void }>(resource: T) => T,
): Promise<TLSSocket> {
  const settings = tlsOptions(url, options);
  const socket =
    options.tunnel === undefined
      ? track((await import('node:tls')).connect(settings))
      : track((await tunnelled(url, options, settings)) as TLSSocket);
  // Nothing here can finish a handshake before this listens: it takes a round trip.
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      socket.off('secureConnect', onSecure);
      markIncomplete(error);
      reject(error);
    };
    const onSecure = () => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('error', onError);
    socket.once('secureConnect', onSecure);
  });
  return socket;
}

/**
 * A tunnel through the proxy agent to the origin (TLS inside it when `secure` is given). The
 * agent reports the proxy's answer to CONNECT on the request it is handed: anything but 200 is
 * a typed failure naming the status.
 */
async function tunnelled(url: URL, options: ConnectOptions, secure: ConnectionOptions | undefined): Promise<Duplex> {
  // What the agent reports its CONNECT on, named as a ClientRequest is (its listeners may read `host`).
  const req = Object.assign(new EventEmitter(), { host: hostOf(url) });
  let status: number | undefined;
  req.on('proxyConnect', (answer: { statusCode?: number }) => (status = answer.statusCode));
  const socket = await options.tunnel!.connect(req, {
    ...(secure ?? {}),
    host: hostOf(url),
    port: portOf(url),
    secureEndpoint: secure !== undefined,
  });
  if (status !== 200) {
    socket.destroy();
    throw proxyRefused(status, url);
  }
  return socket;
}
