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
