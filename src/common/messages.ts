/** The message of anything thrown: an Error's own message, else the value as text. */
export function messageOf(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  if (typeof cause === 'object' && cause !== null && typeof (cause as { message?: unknown }).message === 'string') {
    return (cause as { message: string }).message;
  }
  return String(cause);
}
