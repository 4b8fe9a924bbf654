import { describe } from '../common/validate.js';
import { messageOf } from '../common/messages.js';
import { visible } from '../common/visible.js';
import { raceAbort } from '../common/wait.js';
import { PartsError, type PartsErrorCode } from './errors.js';
import { httpUrl } from './protocol-options.js';
import type { ControlResponse, Step } from './protocol.js';

const STEP_CODES: Record<Step, PartsErrorCode> = {
  start: 'ERR_START_FAILED',
  resume: 'ERR_START_FAILED',
  piece: 'ERR_PIECE_FAILED',
  complete: 'ERR_COMPLETE_FAILED',
  abandon: 'ERR_COMPLETE_FAILED',
};

export function stepCode(step: Step): PartsErrorCode {
  return STEP_CODES[step];
}

/** The first line of an answer's body, for an error message (at most 200 characters, control characters escaped). */
function excerpt(text: string): string {
  const line = text.trim().split('\n', 1)[0] ?? '';
  return visible(line.length > 200 ? `${line.slice(0, 200)}...` : line);
}

/** A step refused by the server: the status, what the server said, and the URL. */
export function refused(
  step: Step,
  what: string,
  response: ControlResponse,
  code: PartsErrorCode = STEP_CODES[step],
  detail?: string,
): PartsError {
  const said = detail === undefined ? excerpt(response.text) : visible(detail);
  return new PartsError(code, `${what}: the server answered ${response.status}${said ? ` (${said})` : ''}`, {
    status: response.status,
    url: response.url,
  });
}

export function unexpected(what: string, response: ControlResponse, why: string): PartsError {
  return new PartsError('ERR_UNEXPECTED_RESPONSE', `${what}: ${why} (status ${response.status})`, {
    status: response.status,
    url: response.url,
  });
}

/**
 * Runs a function of the caller's (a URL for a part, a start step): what it throws is
 * ERR_CALLBACK_FAILED. One that never settles is let go when `signal` aborts (the run stopped,
 * the abandon step's time ran out): the step then fails for the signal's reason.
 */
export async function callerValue<T>(name: string, action: () => T | Promise<T>, signal: AbortSignal): Promise<T> {
  try {
    return await raceAbort((async () => action())(), signal);
  } catch (cause) {
    if (cause instanceof PartsError || (signal.aborted && cause === signal.reason)) throw cause;
    throw new PartsError('ERR_CALLBACK_FAILED', `${name} threw: ${messageOf(cause)}`, { cause });
  }
}

/** A URL a caller's function returned: an http(s) URL, else ERR_INVALID_VALUE. */
export function checkUrl(value: unknown, name: string): string {
  if (httpUrl(value) === undefined)
    throw new PartsError('ERR_INVALID_VALUE', `${name} must give an http(s) URL, not ${describe(value)}`);
  return String(value);
}

/** Answers that say a session is gone (expired, completed or abandoned elsewhere). */
export const GONE = new Set([404, 410]);

/**
 * Answers to a completing request (S3's complete, tus's final upload) that do not say whether it
 * happened: a failure on its way, a gateway whose server's answer was lost.
 */
export const UNCLEAR = new Set([500, 502, 504]);

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}
