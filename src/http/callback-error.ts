import { UploadError, type UploadAttempt } from '../common/errors.js';
import { messageOf } from '../common/messages.js';

/**
 * What a caller's callback threw, or its promise rejected with, as upload() reports it over
 * HTTP/1.1 and HTTP/2 alike: ERR_CALLBACK_FAILED naming the callback, the throw as cause.
 */
export function callbackError(
  name: string,
  cause: unknown,
  context: { url?: string; attempts?: readonly UploadAttempt[] } = {},
): UploadError {
  return new UploadError('ERR_CALLBACK_FAILED', `${name} threw: ${messageOf(cause)}`, { ...context, cause });
}
