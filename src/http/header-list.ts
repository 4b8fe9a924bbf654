/**
 * A request's headers as the Fetch standard keeps them (§5.2, the `Headers` class: names compared
 * without case, values trimmed and checked, iterated sorted and combined), without the class
 * itself: the first `Headers` a process makes loads Node's bundled undici (about 12 MiB of memory
 * and 20 ms), which uploadParts' requests never need. upload() still answers with a `Response`.
 */
export class HeaderList implements Iterable<[string, string]> {
  /** Each lowercased name's values, in the order they were appended. */
  readonly #values = new Map<string, string[]>();

  /** A copy of `other`, or an empty list. */
  constructor(other?: HeaderList) {
    if (other !== undefined) for (const [name, values] of other.#values) this.#values.set(name, [...values]);
  }

  /** Fetch's append: throws a TypeError for a name that is not a token or a value with NUL, CR or LF. */
  append(name: string, value: string): void {
    const key = checkedName(name);
    const normalized = checkedValue(name, value);
    const values = this.#values.get(key);
    if (values === undefined) this.#values.set(key, [normalized]);
    else values.push(normalized);
  }

  set(name: string, value: string): void {
    this.#values.set(checkedName(name), [checkedValue(name, value)]);
  }

  delete(name: string): void {
    this.#values.delete(name.toLowerCase());
  }

  has(name: string): boolean {
    return this.#values.has(name.toLowerCase());
  }

  /** The values of `name` joined (see joined()), or null. */
  get(name: string): string | null {
    const key = name.toLowerCase();
    const values = this.#values.get(key);
    return values === undefined ? null : joined(key, values);
  }

  /** Fetch's "sort and combine": names lowercased and sorted, values joined, each Set-Cookie on its own. */
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (const name of [...this.#values.keys()].sort()) {
      const values = this.#values.get(name)!;
      if (name === 'set-cookie') for (const value of values) yield [name, value];
      else yield [name, joined(name, values)];
    }
  }
}

/**
 * The list a `HeadersInit` makes, converted as WebIDL converts `Headers`' argument: a sequence of
 * name/value pairs (a `Headers`, a `Map`, an array of pairs) or a record of own string keys.
 * Throws a TypeError for what `new Headers(init)` refuses.
 */
export function headerListOf(init: unknown): HeaderList {
  const list = new HeaderList();
  if (init === undefined) return list;
  if ((typeof init !== 'object' && typeof init !== 'function') || init === null)
    throw new TypeError('headers must be a record of names to values or a sequence of [name, value] pairs');
  const iterator = iteratorMethod(init);
  if (iterator !== undefined) {
    for (const pair of iterateWith(init, iterator)) {
      const [name, value] = pairOf(pair);
      list.append(byteString(name), byteString(value));
    }
    return list;
  }
  for (const key of Reflect.ownKeys(init)) {
    if (typeof key === 'symbol') throw new TypeError('a header name cannot be a symbol');
    if (Object.getOwnPropertyDescriptor(init, key)?.enumerable !== true) continue;
    list.append(byteString(key), byteString((init as Record<string, unknown>)[key]));
  }
  return list;
}

/**
 * `value[Symbol.iterator]`, read once, as WebIDL's GetMethod reads it: a getter read again may
 * answer with another method, and the pairs checked would not be the pairs sent. Undefined for none.
 */
function iteratorMethod(value: object): (() => Iterator<unknown>) | undefined {
  const method = (value as { [Symbol.iterator]?: unknown })[Symbol.iterator];
  if (method === undefined) return undefined;
  if (typeof method !== 'function') throw new TypeError('headers[Symbol.iterator] is not a function');
  return method as () => Iterator<unknown>;
}

/** What `method`, called on `value`, iterates: the method as it was read, never looked up again. */
function iterateWith(value: object, method: () => Iterator<unknown>): Iterable<unknown> {
  return { [Symbol.iterator]: () => method.call(value) };
}

/** A header pair: any iterable object (a function too, as WebIDL takes it) of exactly two items. */
function pairOf(pair: unknown): [unknown, unknown] {
  const isObject = (typeof pair === 'object' && pair !== null) || typeof pair === 'function';
  const method = isObject ? iteratorMethod(pair) : undefined;
  if (method === undefined) throw new TypeError(`a header pair must be [name, value], not ${typeof pair}`);
  const items = [...iterateWith(pair as object, method)];
  if (items.length !== 2) throw new TypeError(`a header pair must be [name, value], found ${items.length} items`);
  return [items[0], items[1]];
}

/**
 * A name's values as one: joined with ", " (Fetch's combine), but Cookie's with "; ", as Node's
 * Headers joins them: a Cookie line is one list of pairs split by "; " (RFC 6265 §4.2.1, and
 * RFC 9113 §8.2.3 for HTTP/2), so "a=1, b=2" would reach the server as cookie a = "1, b=2".
 */
function joined(name: string, values: string[]): string {
  return values.join(name === 'cookie' ? '; ' : ', ');
}

/** RFC 9110 §5.6.2 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Fetch's HTTP whitespace at either end of a value, removed before it is checked. */
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const FORBIDDEN_IN_VALUE = /[\0\r\n]/;

function checkedName(name: string): string {
  if (!TOKEN.test(name)) throw new TypeError(`${JSON.stringify(name)} is an invalid header name`);
  return name.toLowerCase();
}

function checkedValue(name: string, value: string): string {
  const normalized = value.replace(EDGE_WHITESPACE, '');
  if (FORBIDDEN_IN_VALUE.test(normalized))
    throw new TypeError(`${JSON.stringify(normalized)} is an invalid value for header ${name}`);
  return normalized;
}

/** WebIDL's ByteString: the value as a string (a symbol throws), each character at most U+00FF. */
function byteString(value: unknown): string {
  if (typeof value === 'symbol') throw new TypeError('a header name or value cannot be a symbol');
  const text = String(value);
  const wide = /[^\0-\xff]/.exec(text);
  if (wide !== null)
    throw new TypeError(
      `${JSON.stringify(text)} holds ${JSON.stringify(wide[0])} (U+${wide[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}), past U+00FF`,
    );
  return text;
}
