import { describe } from '../common/validate.js';
import { DecodeError } from './errors.js';

/** How much multipartDecode() reads before it refuses a body. Every limit is a whole number; Infinity turns a size or count limit off. */
export interface DecodeLimits {
  /** Most parts (default 10,000): one more is ERR_TOO_MANY_PARTS. An endless multipart/x-mixed-replace stream needs Infinity. */
  maxParts?: number;
  /** Largest header block of one part, in bytes, its line ends included (default 16 KiB): ERR_HEADER_TOO_LARGE. Finite. */
  maxHeaderBytes?: number;
  /** Most header lines in one part (default 100): ERR_TOO_MANY_HEADERS. Finite. */
  maxHeaderPairs?: number;
  /** Largest body of one part, in bytes (default Infinity: a part streams through in bounded memory): ERR_PART_TOO_LARGE. */
  maxPartBytes?: number;
  /** Largest whole body, preamble and epilogue included (default Infinity): ERR_BODY_TOO_LARGE. */
  maxBodyBytes?: number;
}

export interface DecodeOptions extends DecodeLimits {
  /** The body's Content-Type (`multipart/...; boundary=...`); by default the source's own header (a Response, an IncomingMessage, a decoded part). */
  contentType?: string;
  /** The boundary itself, instead of taking it from a Content-Type. */
  boundary?: string;
}

export type Limits = Required<DecodeLimits>;

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxParts: 10_000,
  maxHeaderBytes: 16 * 1024,
  maxHeaderPairs: 100,
  maxPartBytes: Infinity,
  maxBodyBytes: Infinity,
});

/** What a part's bytes(), text() and json(), and decodeBatch() for each response, hold at most by default. */
export const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;

const FINITE_ONLY = new Set<string>(['maxHeaderBytes', 'maxHeaderPairs']);
export const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];
const OPTION_KEYS: readonly string[] = [...LIMIT_KEYS, 'contentType', 'boundary'];

const invalid = (message: string) => new DecodeError('ERR_INVALID_OPTION', message);

/** A limit option: a whole number from 1 (or Infinity where allowed), else ERR_INVALID_OPTION. */
export function checkLimit(value: unknown, key: string, fallback: number, fail = invalid): number {
  if (value === undefined) return fallback;
  if (value === Infinity && !FINITE_ONLY.has(key)) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
  // The largest is named: 2 ** 53 looks whole, but is not one a count can be held to exactly.
  const whole = `a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`;
  const range = FINITE_ONLY.has(key) ? whole : `${whole}, or Infinity`;
  throw fail(`${key} must be ${range}, not ${describe(value)}`);
}

/** Checks every option (a misspelt key is refused) and fills in the default limits. */
export function checkDecodeOptions(
  options: unknown,
  extraKeys: readonly string[] = [],
): DecodeOptions & { limits: Limits } {
  if (options === undefined) return { limits: { ...DEFAULT_LIMITS } };
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw invalid(`options must be an object, not ${describe(options)}`);
  const known = [...OPTION_KEYS, ...extraKeys];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw invalid(`unknown option ${JSON.stringify(key)}; known: ${known.join(', ')}`);
  }
  const given = options as Record<string, unknown>;
  const limits = {} as Limits;
  for (const key of LIMIT_KEYS) limits[key] = checkLimit(given[key], key, DEFAULT_LIMITS[key]);
  for (const key of ['contentType', 'boundary'] as const) {
    if (given[key] !== undefined && typeof given[key] !== 'string')
      throw invalid(`${key} must be a string, not ${describe(given[key])}`);
  }
  return { ...(given as DecodeOptions), limits };
}

/** Checked options back as DecodeOptions (limits filled in), to pass on to multipartDecode(). */
export function decodeOptionsOf(checked: DecodeOptions & { limits: Limits }): DecodeOptions {
  return {
    ...checked.limits,
    ...(checked.contentType === undefined ? {} : { contentType: checked.contentType }),
    ...(checked.boundary === undefined ? {} : { boundary: checked.boundary }),
  };
}
