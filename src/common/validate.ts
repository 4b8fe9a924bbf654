import { MultipartError, UploadError } from './errors.js';

/** The longest delay a Node timer can hold (2^31 - 1 ms); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

type OptionError = (message: string) => Error;

export const encodeOptionError: OptionError = (message) => new MultipartError('ERR_INVALID_OPTION', message);
export const uploadOptionError: OptionError = (message) => new UploadError('ERR_INVALID_OPTION', message);

/**
 * Describes a value for an error message: `a Map`, `"text"`, `number NaN`. Never throws, whatever
 * the value's getters do: the message of a typed error must not become an untyped one.
 */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `function ${nameOf(value) || '(anonymous)'}`;
  if (typeof value !== 'object') return `${typeof value} ${String(value)}`;
  const name = nameOf(constructorOf(value));
  if (name === 'Array') return 'an array';
  if (name === undefined || name === '' || name === 'Object') return 'an object';
  return `${/^[AEIOU]/i.test(name) ? 'an' : 'a'} ${name}`;
}

/** An object's constructor: 'Array' for arrays; undefined where asking throws (a revoked Proxy). */
function constructorOf(value: object): unknown {
  try {
    return Array.isArray(value) ? Array : (value as { constructor?: unknown }).constructor;
  } catch {
    return undefined;
  }
}

function nameOf(value: unknown): string | undefined {
  try {
    const name = (value as { name?: unknown } | undefined)?.name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every key of an options type, as an object typed `Record<keyof Options, true>`: adding an option to
 * the type without adding it here fails to compile, so the key check cannot forget it.
 */
export type OptionRegistry<Options> = Readonly<Record<keyof Options, true>>;

/** Checks that `options` is a plain options object whose keys are all in `known`. */
export function checkOptionKeys<T extends object>(
  options: T | undefined,
  known: readonly string[] | Readonly<Record<string, true>>,
  fail: OptionError,
  what = 'options',
): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw fail(`${what} must be an object, not ${describe(options)}`);
  }
  const list = Array.isArray(known) ? (known as readonly string[]) : undefined;
  // for...in rather than Object.keys, and no closure: nothing allocated per call (a MultipartParam per field of 100,000).
  for (const key in options) {
    if (!Object.hasOwn(options, key) || (list === undefined ? Object.hasOwn(known, key) : list.includes(key))) continue;
    const names = list ?? Object.keys(known);
    throw fail(`unknown option ${JSON.stringify(key)} in ${what}; known: ${names.join(', ')}`);
  }
  return options;
}

/**
 * A count of bytes (a size, a limit, a block size): a whole number from `min` to
 * Number.MAX_SAFE_INTEGER, or undefined. The one byte-count check: NaN, Infinity, fractions,
 * negative numbers and non-numbers all fail with `fail`'s error.
 */
export function checkByteCount(value: unknown, what: string, fail: OptionError, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!(Number.isSafeInteger(value) && (value as number) >= min)) {
    throw fail(`${what} must be a whole number of bytes, at least ${min}, not ${describe(value)}`);
  }
  // -0 passes the test above; Blob.slice(-0) aborts Node 20: a count is never negative zero.
  return (value as number) + 0;
}

/**
 * An AbortSignal, or undefined. Recognised by its shape, not its class: a signal from another
 * realm or a polyfill works as well as Node's own.
 */
export function checkSignal(value: unknown, what: string, fail: OptionError): AbortSignal | undefined {
  if (value === undefined) return undefined;
  const signal = value as Partial<AbortSignal> | null;
  if (
    typeof signal !== 'object' ||
    signal === null ||
    typeof signal.aborted !== 'boolean' ||
    typeof signal.addEventListener !== 'function' ||
    typeof signal.removeEventListener !== 'function'
  ) {
    throw fail(`${what} must be an AbortSignal, not ${describe(value)}`);
  }
  return value as AbortSignal;
}

/** A whole number in [min, max], or undefined. */
export function checkInteger(
  value: unknown,
  option: string,
  fail: OptionError,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  if (!(Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max)) {
    throw fail(`${option} must be a whole number from ${min} to ${max}, not ${describe(value)}`);
  }
  return value as number;
}

/**
 * A delay in milliseconds a timer can hold: finite, in [min, MAX_TIMER_MS], or undefined. A
 * fraction is kept (a deadline worked out by arithmetic need not be rounded); a timeout under
 * 1 ms, 0 included, is refused: 0 means "none" to node:http and axios and "at once" elsewhere.
 */
export function checkMilliseconds(value: unknown, option: string, fail: OptionError, min = 1): number | undefined {
  if (value === undefined) return undefined;
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= min && value <= MAX_TIMER_MS)) {
    const none = typeof value === 'number' && value >= 0 && value < min ? ' (leave it out for none)' : '';
    throw fail(
      `${option} must be a number of milliseconds from ${min} to ${MAX_TIMER_MS}${none}, not ${describe(value)}`,
    );
  }
  return value;
}

export function checkFunction<F>(value: unknown, option: string, fail: OptionError): F | undefined {
  if (value !== undefined && typeof value !== 'function')
    throw fail(`${option} must be a function, not ${describe(value)}`);
  return value as F | undefined;
}

export function checkString(value: unknown, option: string, fail: OptionError): string | undefined {
  if (value !== undefined && typeof value !== 'string')
    throw fail(`${option} must be a string, not ${describe(value)}`);
  return value;
}

/**
 * A byte range `start`..`end` of `length` bytes, as `Blob.slice` counts (start inclusive, end
 * exclusive, each defaulting to the whole): whole numbers within the data, else ERR_INVALID_RANGE.
 */
export function checkByteRange(
  start: unknown,
  end: unknown,
  length: number,
  where: string,
  paramName: string | undefined,
): [number, number] {
  const range = [start ?? 0, end ?? length];
  for (const [i, bound] of range.entries()) {
    if (!(Number.isSafeInteger(bound) && (bound as number) >= 0)) {
      throw new MultipartError(
        'ERR_INVALID_RANGE',
        `${i === 0 ? 'start' : 'end'} must be a whole number of bytes, not ${describe(bound)}`,
        { paramName },
      );
    }
  }
  // -0 passes as 0, but Blob.slice(-0) aborts the process on Node 20: it is made 0 here.
  const [from, to] = (range as [number, number]).map((bound) => bound + 0) as [number, number];
  if (from > to || to > length)
    throw new MultipartError(
      'ERR_INVALID_RANGE',
      `bytes ${from} to ${to} are not within ${where}, which holds ${length}`,
      { paramName },
    );
  return [from, to];
}

/** RFC 9110 §5.6.2: a token (header names, methods). */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
