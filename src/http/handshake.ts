/**
 * Says on a socket error (the `cause` of an ERR_REQUEST_FAILED) that it ended a TLS connection
 * before its handshake completed: `tlsHandshakeIncomplete: true`. A plain-HTTP server read as TLS
 * may answer and reset the connection, and the reset (ECONNRESET) can reach the client before
 * OpenSSL has read the answer as a bad record: the code alone no longer says that TLS never began.
 */
export function noteTlsHandshake(error: Error, socket: unknown): void {
  // A TLSSocket's alpnProtocol is null until the handshake completes (Node's documented contract),
  // then false or the protocol: this holds for a socket an agent kept alive or made in a tunnel too.
  const tls = socket as { encrypted?: unknown; alpnProtocol?: unknown } | null | undefined;
  if (tls?.encrypted === true && tls.alpnProtocol === null) markIncomplete(error);
}

/** The mark itself, for an error met while waiting for the handshake. */
export function markIncomplete(error: Error): void {
  (error as Error & { tlsHandshakeIncomplete?: true }).tlsHandshakeIncomplete = true;
}
