import { MultipartError } from '../common/errors.js';
import { checkByteCount, checkFunction, checkOptionKeys, describe, type OptionRegistry } from '../common/validate.js';
import { assertHeaderValue, type PartHeadersInit } from './headers.js';
import type { NestedForm } from './nesting.js';
import type { MultipartParam } from './param.js';
import type { BlobLike, StreamLike } from './sources.js';

/** Progress of a part or a body: bytes consumed so far, and the total (undefined when unknown). */
export type ProgressCallback = (param: MultipartParam, current: number, total: number | undefined) => void;

/** What a file part can stream from, besides a path (`MultipartParam.fromFile`): a Blob or File (by shape), or a stream. */
export type FileObject = Blob | BlobLike | StreamLike;

export interface MultipartParamOptions {
  /** The part's data: a string is sent as UTF-8, bytes as they are, an encoded multipart as a nested body. */
  value?: string | Uint8Array | NestedForm;
  /** Makes this a file part and names the file. */
  filename?: string;
  /** The part's Content-Type. For file parts it defaults to a guess from `filename`, else `application/octet-stream`. */
  filetype?: string;
  /** The byte count of `fileobj` when it cannot be known otherwise (a stream). */
  filesize?: number;
  /** Where a file part's bytes come from: a Blob/File, a Node Readable, a web ReadableStream or an async iterable of bytes. */
  fileobj?: FileObject;
  /** Called as this part's bytes are consumed: `(param, current, total)`. */
  cb?: ProgressCallback;
  /** More header lines for this part (`Content-ID`, `Content-Transfer-Encoding`...): an object, a `Headers` or pairs. */
  headers?: PartHeadersInit;
}

export interface FromFileOptions {
  /** The filename sent; defaults to the path's basename. */
  filename?: string;
  /** The Content-Type sent; defaults to a guess from the filename sent. */
  filetype?: string;
  cb?: ProgressCallback;
  headers?: PartHeadersInit;
  /** The first byte sent (inclusive, default 0), as in `Blob.slice`. */
  start?: number;
  /** The byte after the last one sent (exclusive, default the file's size), as in `Blob.slice`. */
  end?: number;
}

/** A value accepted for a field in `fromParams` / `multipartEncode` inputs. */
export type FieldValue =
  string | number | bigint | boolean | Uint8Array | ArrayBuffer | FileObject | NestedForm | MultipartParam;

/**
 * One entry of a list: a param, a `[name, value]` pair, or `[name, value, filename]`, which
 * makes a file part with that filename, as `FormData.append(name, value, filename)` does.
 */
export type ParamsEntry = MultipartParam | readonly [string, FieldValue] | readonly [string, FieldValue, string];

/** Everything `fromParams` (and so `multipartEncode`) accepts. */
export type ParamsInput =
  | Iterable<ParamsEntry>
  | FormData
  | Map<string, FieldValue | readonly FieldValue[]>
  | { readonly [name: string]: FieldValue | readonly FieldValue[] };

const PARAM_OPTIONS: OptionRegistry<MultipartParamOptions> = {
  value: true,
  filename: true,
  filetype: true,
  filesize: true,
  fileobj: true,
  cb: true,
  headers: true,
};
export const FROM_FILE_OPTIONS: OptionRegistry<FromFileOptions> = {
  filename: true,
  filetype: true,
  cb: true,
  headers: true,
  start: true,
  end: true,
};

/** Options of a param are MultipartErrors that name its field. */
export function paramOptionError(label: string | undefined): (message: string) => MultipartError {
  return (message) => new MultipartError('ERR_INVALID_OPTION', message, { paramName: label });
}

/** A part's name: a string, or null for a part without a Content-Disposition line. */
export function checkName(name: unknown): asserts name is string | null {
  if (typeof name !== 'string' && name !== null) {
    throw new MultipartError(
      'ERR_INVALID_NAME',
      `a field name must be a string (or null for a part without one), not ${describe(name)}`,
    );
  }
}

/**
 * The options of `new MultipartParam`, each on its own: what the part is (`value`, `fileobj`,
 * `filename`, `filetype`) is data (ERR_INVALID_VALUE, ERR_INVALID_HEADER_VALUE); how it is
 * measured and reported (`filesize`, `cb`) are options (ERR_INVALID_OPTION). What they say
 * together is checked once the data is known. Each option is read once, and what was checked is
 * returned as a plain copy that the param is made from: a getter read again could answer
 * otherwise (a `filetype` with a CRLF, a `filesize` of -1 once its check has passed).
 */
export function checkParamOptions(options: MultipartParamOptions, label: string | undefined): MultipartParamOptions {
  const fail = paramOptionError(label);
  checkOptionKeys(options, PARAM_OPTIONS, fail);
  const { value, fileobj, filename, filetype, filesize, cb, headers } = options;
  if (value !== undefined && fileobj !== undefined) {
    throw new MultipartError('ERR_VALUE_AND_FILEOBJ', 'give either a value or a fileobj, not both', {
      paramName: label,
    });
  }
  checkText(filename, 'filename', label);
  checkContentType(filetype, label);
  checkFunction(cb, 'cb', fail);
  checkByteCount(filesize, 'filesize', fail);
  return { value, fileobj, filename, filetype, filesize, cb, headers };
}

/** A part's Content-Type as given: a string (ERR_INVALID_VALUE) that can stand in a header line (ERR_INVALID_HEADER_VALUE). */
export function checkContentType(type: unknown, label: string | undefined): void {
  checkText(type, 'the content type', label);
  if (type !== undefined) assertHeaderValue(type as string, 'the content type', label);
}

/** A text option as given (a filename, a content type): undefined or a string, else ERR_INVALID_VALUE. */
export function checkText(value: unknown, what: string, paramName: string | undefined): void {
  if (value !== undefined && typeof value !== 'string') {
    throw new MultipartError('ERR_INVALID_VALUE', `${what} must be a string, not ${describe(value)}`, { paramName });
  }
}
