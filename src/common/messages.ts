/**
 * The message of anything thrown: an Error's own message, else the value as text. Never throws
 * itself: a caller's callback may throw an object with no prototype, or a Proxy whose every trap
 * throws, and the error that reports it must still be made.
 */
export function messageOf(cause: unknown): string {
  try {
    if (cause instanceof Error) return String(cause.message);
    if (typeof cause === 'object' && cause !== null) {
      const message = (cause as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
    return String(cause);
  } catch {
    return `a thrown ${typeof cause} that cannot be shown as text`;
  }
}

/**
 * A URL as a message may show it: a user name and password before its host become `***`. For the
 * text of a URL that may not parse, in every spelling the WHATWG parser takes (`http:user:pw@h`,
 * `http:\\user:pw@h`, leading spaces): only the authority is looked at, never the path.
 */
export function withoutPassword(url: string): string {
  return url.replace(/^(\s*[a-z][a-z\d+.-]*:[/\\]*)[^\s/\\?#@]*@/i, '$1***@');
}
