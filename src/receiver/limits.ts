import type { IncomingMessage } from 'node:http';
import { describe, MAX_TIMER_MS } from '../common/validate.js';
import type { ReceiptReport } from './report.js';
import { ReceiveError } from './errors.js';

export interface ReceiverLimits {
  /** Largest request body accepted, in bytes (default 2 GiB); a larger one is answered 413. */
  maxBodyBytes?: number;
  /** Most parts accepted (default 10,000); more are answered 413. */
  maxParts?: number;
  /** Most header lines in one part (default 100); more are answered 413. */
  maxHeaderPairs?: number;
  /** Largest header block of one part, in bytes (default 16 KiB); a larger one is answered 413. */
  maxHeaderBytes?: number;
  /**
   * How long the client may send nothing before the request is given up, answered 408 (default 30,000 ms).
   * With createReceiver(), also how long an answer may wait with none of its bytes leaving before the
   * connection is destroyed (a client that does not read what it is sent).
   */
  idleTimeoutMs?: number;
}

export interface ReceiverOptions extends ReceiverLimits {
  /** The default answer: JSON (default) or the text table. A request can ask for either. */
  format?: 'json' | 'text';
  /** Called with each report, before it is sent (a promise it returns is waited for); if it throws or rejects, the answer is 500. */
  onReport?: (report: ReceiptReport) => void;
  /** Called with each refused request, before the answer (when one can still be sent); not waited for, and what it throws or rejects with is a process warning. */
  onError?: (error: Error, req: IncomingMessage) => void;
}

export const DEFAULT_LIMITS: Readonly<Required<ReceiverLimits>> = Object.freeze({
  maxBodyBytes: 2 * 1024 ** 3,
  maxParts: 10_000,
  maxHeaderPairs: 100,
  maxHeaderBytes: 16 * 1024,
  idleTimeoutMs: 30_000,
});

const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as (keyof ReceiverLimits)[];
const OPTION_KEYS = [...LIMIT_KEYS, 'format', 'onReport', 'onError'];

const invalid = (message: string) => new ReceiveError('ERR_INVALID_OPTION', message);

function checkKeys(options: unknown, known: readonly string[], what: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw invalid(`${what} must be an object, not ${describe(options)}`);
  for (const key of Object.keys(options))
    if (!known.includes(key))
      throw invalid(`unknown option ${JSON.stringify(key)} in ${what}; known: ${known.join(', ')}`);
  return options as Record<string, unknown>;
}

/** Every limit checked and filled in: whole numbers from 1 (a timer's delay at most 2^31 - 1 ms); anything else is ERR_INVALID_OPTION. */
export function checkLimits(
  limits: unknown,
  known: readonly string[] = LIMIT_KEYS,
  what = 'the receiver limits',
): Required<ReceiverLimits> {
  const given = checkKeys(limits, known, what);
  const checked = { ...DEFAULT_LIMITS };
  for (const key of LIMIT_KEYS) {
    const value = given[key];
    if (value === undefined) continue;
    const max = key === 'idleTimeoutMs' ? MAX_TIMER_MS : Number.MAX_SAFE_INTEGER;
    if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= max)) {
      throw invalid(`${key} must be a whole number from 1 to ${max}, not ${describe(value)}`);
    }
    checked[key] = value;
  }
  return checked;
}

export interface CheckedOptions {
  limits: Required<ReceiverLimits>;
  format: 'json' | 'text';
  onReport: ReceiverOptions['onReport'];
  onError: ReceiverOptions['onError'];
}

export function checkOptions(options: unknown): CheckedOptions {
  const given = checkKeys(options, OPTION_KEYS, 'the receiver options');
  const limits = checkLimits(options, OPTION_KEYS, 'the receiver options');
  const { format = 'json', onReport, onError } = given;
  if (format !== 'json' && format !== 'text') throw invalid(`format must be 'json' or 'text', not ${describe(format)}`);
  for (const [key, value] of [
    ['onReport', onReport],
    ['onError', onError],
  ] as const) {
    if (value !== undefined && typeof value !== 'function')
      throw invalid(`${key} must be a function, not ${describe(value)}`);
  }
  return {
    limits,
    format,
    onReport: onReport as CheckedOptions['onReport'],
    onError: onError as CheckedOptions['onError'],
  };
}
