import { ReadStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { basename, normalize } from 'node:path';
import { Readable, Stream } from 'node:stream';
import { MultipartError } from '../common/errors.js';
import { assertAttached, takeBytes } from '../multipart/bytes.js';
import { assertHeaderValue } from '../multipart/headers.js';
import { lookupType, OCTET_STREAM } from '../multipart/mime.js';
import {
  BlobSource,
  blobName,
  blobType,
  isBlobLike,
  StreamSource,
  type BlobLike,
  type ByteSource,
} from '../multipart/sources.js';
import { describe, TOKEN } from '../common/validate.js';
import { sizeOf, type HeaderLine } from '../multipart/wire.js';
import { ReadStreamSource, takeOverReadStream } from './read-stream.js';

/** What `append()` takes as its third argument: these options, or a filename. */
export interface FormDataAppendOptions {
  /** More header lines for the part (an object), or the part's whole header block, boundary line included (a string). */
  header?: string | Record<string, string | number | readonly (string | number)[] | null | undefined>;
  /** The byte count of a stream whose size cannot be known otherwise; for any other value it must be the value's own size. */
  knownLength?: number;
  /** The filename sent; directories are cut off, as form-data does. */
  filename?: string;
  /** The filename sent, directories kept (normalized, with forward slashes). Wins over `filename`. */
  filepath?: string;
  /** The part's Content-Type; by default guessed from the value's name or path, else from the filename. */
  contentType?: string;
}

/** One appended part: its header (fields, or the caller's raw block) and its data. */
export interface Field {
  readonly name: string;
  /** The caller's whole header block (`header` given as a string), sent as it is. */
  readonly rawHead: string | undefined;
  readonly filename: string | undefined;
  readonly contentType: string | undefined;
  readonly headers: readonly HeaderLine[] | undefined;
  readonly data: string | Uint8Array | ByteSource;
}

const OPTION_KEYS = ['header', 'knownLength', 'filename', 'filepath', 'contentType'];

/** The message form-data gives for an array value; kept word for word, as callers match it. */
export const ARRAYS_UNSUPPORTED = 'Arrays are not supported.';

/**
 * The part form-data 4 would make of `append(name, value, options)`: the same filename and
 * Content-Type rules, with what form-data gets wrong refused as a typed error (see
 * docs/migrate-from-form-data.md). Throws MultipartError.
 */
export function fieldOf(name: unknown, value: unknown, given: unknown): Field {
  const field = fieldName(name);
  // The common case, a text field without options (100,000 of them in one form): nothing else to decide.
  if (given === undefined && (typeof value === 'string' || typeof value === 'number')) {
    return {
      name: field,
      rawHead: undefined,
      filename: undefined,
      contentType: undefined,
      headers: undefined,
      data: String(value),
    };
  }
  const options = appendOptions(given, field);
  const data = dataOf(value, field);
  try {
    return describeField(field, value, options, data);
  } catch (error) {
    if (data instanceof ReadStreamSource) data.abandon();
    throw error;
  }
}

function describeField(field: string, value: unknown, options: FormDataAppendOptions, data: Field['data']): Field {
  const knownLength = checkKnownLength(options.knownLength, data, field);
  const source =
    knownLength === undefined || typeof data === 'string' || data instanceof Uint8Array || data.size !== undefined
      ? data
      : declared(data, knownLength);
  if (typeof options.header === 'string') {
    return {
      name: field,
      rawHead: options.header,
      filename: undefined,
      contentType: undefined,
      headers: undefined,
      data: source,
    };
  }
  const headers = headerLines(options.header, field);
  const typeHeader = takeLine(headers, 'content-type');
  const filename = filenameOf(value, options);
  const contentType = options.contentType || typeHeader || contentTypeOf(value, options, filename);
  if (contentType !== undefined) assertHeaderValue(contentType, 'the content type', field);
  return {
    name: field,
    rawHead: undefined,
    filename,
    contentType,
    headers: headers.length === 0 ? undefined : headers,
    data: source,
  };
}

function fieldName(name: unknown): string {
  if (typeof name === 'number') return String(name);
  if (typeof name !== 'string')
    throw new MultipartError('ERR_INVALID_NAME', `a field name must be a string, not ${describe(name)}`);
  return name;
}

function appendOptions(given: unknown, field: string): FormDataAppendOptions {
  if (given === undefined || given === null) return {};
  if (typeof given === 'string') return { filename: given };
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new MultipartError('ERR_INVALID_OPTION', `options must be an object or a filename, not ${describe(given)}`, {
      paramName: field,
    });
  }
  for (const key of Object.keys(given)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new MultipartError(
        'ERR_INVALID_OPTION',
        `unknown option ${JSON.stringify(key)}; known: ${OPTION_KEYS.join(', ')}`,
        { paramName: field },
      );
    }
  }
  // Each option is read once, and the part is made from what was checked: a getter read again could
  // answer otherwise (a filename that is no longer a string).
  const { header, knownLength, filename, filepath, contentType } = given as FormDataAppendOptions;
  const texts = { filename, filepath, contentType };
  for (const key of ['filename', 'filepath', 'contentType'] as const) {
    const option = texts[key];
    if (option !== undefined && option !== null && typeof option !== 'string') {
      throw new MultipartError('ERR_INVALID_OPTION', `${key} must be a string, not ${describe(option)}`, {
        paramName: field,
      });
    }
  }
  if (
    header !== undefined &&
    header !== null &&
    typeof header !== 'string' &&
    (typeof header !== 'object' || Array.isArray(header))
  ) {
    throw new MultipartError('ERR_INVALID_OPTION', `header must be an object or a string, not ${describe(header)}`, {
      paramName: field,
    });
  }
  return { header, knownLength, filename, filepath, contentType };
}

/** The part's data: text and bytes as they are, everything else a source read when its part is reached. */
function dataOf(value: unknown, field: string): Field['data'] {
  // form-data turns numbers and nullish values into text, and refuses arrays.
  if (typeof value === 'number' || value === null || value === undefined) return String(value);
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) throw new MultipartError('ERR_INVALID_VALUE', ARRAYS_UNSUPPORTED);
  if (value instanceof ArrayBuffer) {
    assertAttached(value, field);
    return takeBytes(fixedLength(new Uint8Array(value)), field);
  }
  if (ArrayBuffer.isView(value)) {
    if (!(value instanceof Uint8Array)) assertAttached(value.buffer, field); // a Uint8Array: takeBytes checks
    return takeBytes(
      fixedLength(
        value instanceof Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
      ),
      field,
    );
  }
  if (isBlobLike(value)) return new BlobSource(value, field);
  if (value instanceof ReadStream) return takeOverReadStream(value, field) ?? new StreamSource(value, undefined);
  if (isIncomingMessage(value)) return new StreamSource(value, messageLength(value));
  if (value instanceof Readable || isWebStream(value)) return new StreamSource(value as Readable, undefined);
  if (value instanceof Stream && typeof (value as Readable).pipe === 'function')
    return new StreamSource(legacyStream(value), undefined);
  if (typeof value === 'object' && Symbol.asyncIterator in value)
    return new StreamSource(value as AsyncIterable<Uint8Array>, undefined);
  throw new MultipartError(
    'ERR_INVALID_VALUE',
    `unsupported value ${describe(value)}: give a string, a number, a Buffer or other bytes, a Blob or File, or a stream`,
    { paramName: field },
  );
}

/**
 * The caller's bytes, not copied (as form-data sends what it was given), except over a resizable
 * buffer: a view of one follows its length, which would then disagree with the measured one.
 */
function fixedLength(bytes: Uint8Array): Uint8Array {
  const buffer = bytes.buffer as { resizable?: boolean; growable?: boolean };
  return buffer.resizable || buffer.growable ? new Uint8Array(bytes) : bytes;
}

function isWebStream(value: unknown): boolean {
  return typeof ReadableStream !== 'undefined' && value instanceof ReadableStream;
}

/** An http.IncomingMessage, recognised as form-data does (readable, with its own `httpVersion`). */
function isIncomingMessage(value: unknown): value is IncomingMessage {
  return value instanceof Readable && value.readable && Object.hasOwn(value, 'httpVersion');
}

/** The response's Content-Length when it declares one and nothing of it was read yet. */
function messageLength(message: IncomingMessage): number | undefined {
  const header = message.headers['content-length'];
  if (typeof header !== 'string' || !/^\d{1,15}$/.test(header) || message.readableDidRead) return undefined;
  return Number(header);
}

/**
 * An old-style stream (`data` and `end` events, such as `request`'s), paused at once as form-data
 * pauses it, and taken into a Readable so that no early `data` is lost. Not `Readable.wrap()`: it
 * ends the Readable on the stream's `close`, which `request` emits before its data is read.
 */
function legacyStream(stream: Stream): Readable {
  const source = stream as Stream & { pause?: () => void; resume?: () => void };
  let ended = false;
  const readable = new Readable({
    read: () => source.resume?.(),
    destroy: (error, callback) => {
      if (!ended) source.pause?.();
      callback(error);
    },
  });
  source.on('data', (chunk: unknown) => {
    if (!readable.push(chunk)) source.pause?.();
  });
  source.once('end', () => {
    ended = true;
    readable.push(null);
  });
  source.on('error', (error: Error) => readable.destroy(error));
  source.once('close', () => {
    if (!ended) readable.destroy(new Error('the stream closed before its end'));
  });
  source.pause?.();
  return readable;
}

function checkKnownLength(knownLength: unknown, data: Field['data'], field: string): number | undefined {
  if (knownLength === undefined || knownLength === null) return undefined;
  // form-data passes knownLength through Number(): a numeric string is taken as well.
  const length = typeof knownLength === 'string' && /^\d+$/.test(knownLength) ? Number(knownLength) : knownLength;
  if (!(typeof length === 'number' && Number.isSafeInteger(length) && length >= 0)) {
    throw new MultipartError(
      'ERR_INVALID_OPTION',
      `knownLength must be a whole number of bytes, not ${describe(knownLength)}`,
      { paramName: field },
    );
  }
  const actual = sizeOf(data);
  if (actual !== undefined && actual !== length) {
    throw new MultipartError(
      'ERR_SIZE_MISMATCH',
      `knownLength ${length} is not the value's ${actual} bytes; leave it out, or give the right one`,
      {
        paramName: field,
      },
    );
  }
  return length;
}

/** A stream whose size the caller declared: the body then has an exact length, and the stream fails if it holds more or less. */
function declared(source: ByteSource, size: number): ByteSource {
  if (source instanceof StreamSource) return new StreamSource(source.stream, size);
  return source;
}

/** Header lines from an object, as form-data writes them: arrays joined with `; `, nullish values left out. */
function headerLines(header: FormDataAppendOptions['header'], field: string): HeaderLine[] {
  if (header === undefined || header === null || typeof header === 'string') return [];
  const lines: HeaderLine[] = [];
  for (const [key, raw] of Object.entries(header)) {
    if (raw === null || raw === undefined) continue;
    const values = Array.isArray(raw) ? (raw as unknown[]) : [raw];
    if (!values.every((v) => typeof v === 'string' || typeof v === 'number')) {
      throw new MultipartError(
        'ERR_INVALID_HEADER_VALUE',
        `header ${key} must be a string, a number or an array of them, not ${describe(raw)}`,
        { paramName: field },
      );
    }
    if (values.length === 0) continue;
    if (!TOKEN.test(key) || key.startsWith('--')) {
      throw new MultipartError(
        'ERR_INVALID_HEADER_NAME',
        `header name ${JSON.stringify(key)} is not an RFC 9110 token or starts with "--"`,
        { paramName: field },
      );
    }
    const lower = key.toLowerCase();
    if (lower === 'content-disposition') {
      throw new MultipartError(
        'ERR_HEADER_CONFLICT',
        'a Content-Disposition header would replace the one the field name and filename write',
        { paramName: field },
      );
    }
    if (lines.some(([name]) => name.toLowerCase() === lower)) {
      throw new MultipartError('ERR_HEADER_CONFLICT', `header ${key} is given twice; a part carries each header once`, {
        paramName: field,
      });
    }
    const value = values.join('; ');
    assertHeaderValue(value, `header ${key}`, field);
    lines.push([key, value]);
  }
  return lines;
}

function takeLine(lines: HeaderLine[], name: string): string | undefined {
  const index = lines.findIndex(([key]) => key.toLowerCase() === name);
  return index < 0 ? undefined : lines.splice(index, 1)[0]![1];
}

/** form-data's filename: `filepath` as given, else the base name of `filename`, the value's `name` or its `path`. */
function filenameOf(value: unknown, options: FormDataAppendOptions): string | undefined {
  if (typeof options.filepath === 'string') return normalize(options.filepath).replace(/\\/g, '/');
  const named = options.filename || stringProperty(value, 'name') || stringProperty(value, 'path');
  if (named) return basename(named);
  if (isIncomingMessage(value)) {
    // form-data takes the path of the request this is the answer to.
    const path = (value as IncomingMessage & { req?: { path?: unknown } }).req?.path;
    return typeof path === 'string' && path !== '' ? basename(path) || undefined : undefined;
  }
  // A Blob without a name goes out as browsers send it.
  return isBlobLike(value) ? 'blob' : undefined;
}

/** form-data's Content-Type guess, in its order; a Blob's own type comes first, as in browsers. */
function contentTypeOf(
  value: unknown,
  options: FormDataAppendOptions,
  filename: string | undefined,
): string | undefined {
  if (isBlobLike(value)) return blobContentType(value, filename);
  const name = stringProperty(value, 'name');
  const path = stringProperty(value, 'path');
  const given = options.filepath || options.filename;
  return (
    (name && lookupType(name)) ||
    (path && lookupType(path)) ||
    (isIncomingMessage(value) ? responseType(value) : undefined) ||
    (given && lookupType(given)) ||
    (typeof value === 'object' && value !== null ? OCTET_STREAM : undefined) ||
    // A file part always says what it is (RFC 7578 §4.4): text with a filename of no known type too.
    (filename !== undefined ? OCTET_STREAM : undefined)
  );
}

function blobContentType(blob: BlobLike, filename: string | undefined): string {
  const type = blobType(blob);
  if (type !== '' && !/[\x00-\x1f\x7f]/.test(type)) return type;
  const name = blobName(blob);
  return (name && lookupType(name)) || (filename && lookupType(filename)) || OCTET_STREAM;
}

function responseType(message: IncomingMessage): string | undefined {
  const type = message.headers['content-type'];
  return typeof type === 'string' && type !== '' ? type : undefined;
}

function stringProperty(value: unknown, key: 'name' | 'path'): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  let property: unknown;
  try {
    property = (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
  return typeof property === 'string' && property !== '' ? property : undefined;
}
