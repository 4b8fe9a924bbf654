import { MultipartError } from '../common/errors.js';
import { describe } from '../common/validate.js';
import { takeBytes } from './bytes.js';
import { isHeaderValue, takeHeader } from './headers.js';
import { isNestedForm, nestedBody } from './nesting.js';
import type { MultipartParamOptions } from './param-options.js';
import { BlobSource, blobName, blobType, isBlobLike, isStreamLike, knownStreamSize, StreamSource } from './sources.js';
import { isNested, sizeOf, type HeaderLine, type NestedBody, type PartData } from './wire.js';

// The steps of `new MultipartParam` that turn its options into a part: its data, its filename,
// its Content-Type, and whether what they declare agrees.

/** A nested body with the Content-Type it was encoded with (the part's Content-Type). */
type TypedNestedBody = NestedBody & { readonly contentType: string };

/** The part's data: text, bytes, a nested body, or a source read when the part is reached. */
export function partData(
  { value, fileobj, filesize }: MultipartParamOptions,
  label: string | undefined,
): PartData | TypedNestedBody {
  if (fileobj === undefined) return valueData(value, label);
  if (isBlobLike(fileobj)) return new BlobSource(fileobj, label);
  if (!isStreamLike(fileobj)) {
    const hint = typeof fileobj === 'string' ? ' (for a path, use await MultipartParam.fromFile(name, path))' : '';
    throw new MultipartError(
      'ERR_INVALID_VALUE',
      `fileobj must be a Blob, a File, a Readable, a ReadableStream or an async iterable of bytes, not ${describe(fileobj)}${hint}`,
      { paramName: label },
    );
  }
  return new StreamSource(fileobj, filesize ?? knownStreamSize(fileobj));
}

function valueData(value: unknown, label: string | undefined): PartData | TypedNestedBody {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return takeBytes(value, label);
  if (isNestedForm(value)) return nestedBody(value, label);
  throw new MultipartError(
    'ERR_INVALID_VALUE',
    `value must be a string, bytes or an encoded multipart body, not ${describe(value)}`,
    { paramName: label },
  );
}

/** The filename sent: the caller's, else a File's own name; a nameless Blob is sent as browsers send it, "blob". */
export function partFilename(data: PartData, filename: string | undefined): string | undefined {
  if (filename !== undefined || !(data instanceof BlobSource)) return filename;
  return blobName(data.blob) ?? 'blob';
}

/** The Content-Type given for the part: `filetype`, or a Content-Type among its headers (taken out of them), not both. */
export function givenType(
  headers: HeaderLine[],
  name: string | null,
  filetype: string | undefined,
  label: string | undefined,
): string | undefined {
  if (headers.length === 0) return filetype;
  const typeHeader = takeHeader(headers, 'content-type');
  if (typeHeader !== undefined && filetype !== undefined) throw conflict('a Content-Type header and filetype', label);
  if (name !== null && headers.some(([key]) => key.toLowerCase() === 'content-disposition')) {
    throw conflict(
      'a Content-Disposition header and a name (which writes one)',
      label,
      'give the part a null name to write your own',
    );
  }
  return typeHeader ?? filetype;
}

/** The Content-Type from the data, where the caller gave none: a Blob's own type, a nested body's (which admits no other). */
export function dataType(data: PartData, given: string | undefined, label: string | undefined): string | undefined {
  if (isNested(data)) {
    if (given !== undefined) {
      throw conflict('a nested multipart body carries its own Content-Type; filetype or a Content-Type header', label);
    }
    return (data as TypedNestedBody).contentType;
  }
  if (given !== undefined || !(data instanceof BlobSource)) return given;
  const type = blobType(data.blob);
  return type !== '' && isHeaderValue(type) ? type : undefined;
}

/**
 * What the caller declared agrees with the data: a `filesize` (a stream's is its size; anything
 * else's must be right), and a Content-Length among the headers (RFC 7578 forbids it in form-data
 * bodies; elsewhere it must not lie).
 */
export function checkDeclaredSizes(
  data: PartData,
  filesize: number | undefined,
  headers: readonly HeaderLine[],
  label: string | undefined,
): void {
  if (filesize !== undefined && filesize !== sizeOf(data)) {
    throw new MultipartError(
      'ERR_SIZE_MISMATCH',
      `filesize ${filesize} does not match the data's ${sizeOf(data) ?? 'unknown'} bytes`,
      { paramName: label },
    );
  }
  if (headers.length === 0) return;
  const given = headers.find(([key]) => key.toLowerCase() === 'content-length')?.[1];
  if (given === undefined) return;
  const size = sizeOf(data);
  if (size === undefined || given !== String(size)) {
    throw new MultipartError(
      'ERR_HEADER_CONFLICT',
      `header Content-Length: ${given} is not the part's length (${size ?? 'unknown'}); leave it out`,
      { paramName: label },
    );
  }
}

function conflict(what: string, label: string | undefined, hint = 'give one'): MultipartError {
  return new MultipartError('ERR_HEADER_CONFLICT', `${what} would both say it; ${hint}`, { paramName: label });
}
