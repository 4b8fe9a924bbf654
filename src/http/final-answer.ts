import type { Answer } from './attempt.js';
import type { UploadControl } from './control.js';

/** The answer an upload ends with (no redirect left to follow), as upload() hands it on. */
export interface FinalAnswer {
  answer: Answer;
  /** The URL that answered: the last hop's. */
  url: string;
  /** The last hop's method (a 303 turns a POST into a GET). */
  method: string;
  redirected: boolean;
}

/**
 * Ties the answer's body to the upload's signal (an abort or the timeout ends a body still being
 * read) and returns `done`, to call once the body is read, has failed or was let go of.
 */
export function holdAnswer({ answer: { res, req, bodySent } }: FinalAnswer, control: UploadControl): () => void {
  const onAbort = () => res.destroy(control.signal.reason as Error);
  control.signal.addEventListener('abort', onAbort, { once: true });
  return () => {
    // The answer is read: the control no longer holds it (something may hold the control longer).
    control.signal.removeEventListener('abort', onAbort);
    // A request whose body was cut short leaves its connection unusable.
    if (!bodySent) req.destroy();
    control.finish();
  };
}
