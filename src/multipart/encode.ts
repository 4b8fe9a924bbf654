import { MultipartError } from '../common/errors.js';
import { checkByteCount, checkByteRange, checkOptionKeys, encodeOptionError } from '../common/validate.js';
import { Body, encodedBody, type EncodedBody, type EncodedForm } from './body.js';
import { crypto } from '../common/lazy.js';
import { assertValidBoundary, genBoundary } from './boundary.js';
import { OCTET_STREAM } from './mime.js';
import {
  checkParameters,
  checkSubtype,
  ENCODE_OPTIONS,
  RAW_BODY_OPTIONS,
  readOnce,
  readSettings,
  type EncodeOptions,
  type RawBodyOptions,
} from './options.js';
import { checkContentType } from './param-options.js';
import { MultipartParam, partOf, reportToCb, type MultipartParamOptions, type ParamsInput } from './param.js';
import { blobType, isBlobLike, type BlobLike, type ByteSource, type StreamLike } from './sources.js';
import { messageOf } from '../common/messages.js';
import { removeSpooled, spoolParts, spoolSettings } from './spool.js';
import { LoopTurns } from '../common/turns.js';
import { isNested, multipartContentType, Plan, unframedPieces, type Framing, type Part } from './wire.js';

// The encoder's entry points. The modules they are made of re-export from here, the path the
// rest of the library (and its other helpers) import the encoder from.
export { Body, encodedBody, isUploadBody, recyclingChunks } from './body.js';
export type { EncodedBody, EncodedForm, UploadBody } from './body.js';
export type { BodyProgressCallback, EncodeOptions, RawBodyOptions, ReadOptions } from './options.js';
export { encodeFileHeader, encodeString, getBodySize, getHeaders } from './poster.js';

/**
 * poster's `multipart_encode`: the body of a multipart request (multipart/form-data unless
 * `subtype` says otherwise), its headers and exact length. Nothing is opened or read until the
 * body is iterated.
 */
export async function multipartEncode(params: ParamsInput, options: EncodeOptions = {}): Promise<EncodedForm> {
  // Counted from here: the params are checked before the plan's first slice.
  const turns = new LoopTurns();
  const given = readOnce(checkOptionKeys(options, ENCODE_OPTIONS, encodeOptionError), ENCODE_OPTIONS);
  const chosen = given.boundary !== undefined;
  const boundary = chosen ? given.boundary : await freshBoundary(turns);
  assertValidBoundary(boundary);
  const subtype = checkSubtype(given.subtype);
  const contentType = multipartContentType(subtype, boundary, checkParameters(given.parameters));
  const settings = readSettings(given);
  const spooling = spoolSettings(given.spool, encodeOptionError);
  const formData = subtype.toLowerCase() === 'form-data';
  const { parts, reportsParts } = partsOf(MultipartParam.fromParams(params), subtype, formData);
  const spooled: string[] = [];
  const spooledParts = await spoolParts(parts, spooling, spooled, given.signal);
  const framing: Framing = { boundary, disposition: formData ? 'form-data' : 'attachment', chosen };
  let plan: Plan<MultipartParam>;
  try {
    plan = await planInSlices(spooledParts, framing, turns);
  } catch (error) {
    await removeSpooled(spooled); // a boundary found in spooled data, a refused nested body: no file stays behind
    throw error;
  }
  const withParts = reportsParts ? { ...settings, onPartProgress: reportToCb } : settings;
  const body = new Body(plan.pieces, withParts, { boundary, contentType }, plan.length);
  return Object.freeze({ ...encodedBody(body, plan.pieces, contentType, spooled), boundary });
}

/**
 * A random boundary. One that loads node:crypto (a block of a few milliseconds) does so in a turn
 * of the event loop of its own, not on the end of the caller's (the last of 2,000 `fromFile`
 * completions, say) nor before the params are checked.
 */
async function freshBoundary(turns: LoopTurns): Promise<string> {
  if (crypto.loaded) return genBoundary();
  await turns.turn();
  const boundary = genBoundary();
  await turns.turn();
  return boundary;
}

/**
 * The params' wire parts, in one pass: RFC 2046 §5.1.1 wants at least one part (form-data alone is
 * sent empty, as browsers do), form-data wants every part named, and a part with its own progress
 * callback (or a nested body, whose parts may have theirs) asks the stream to report parts.
 */
function partsOf(
  list: readonly MultipartParam[],
  subtype: string,
  formData: boolean,
): { parts: Part<MultipartParam>[]; reportsParts: boolean } {
  if (!formData && list.length === 0) {
    throw new MultipartError(
      'ERR_INVALID_PARAMS',
      `a multipart/${subtype} body needs at least one part (RFC 2046 §5.1.1)`,
    );
  }
  const parts: Part<MultipartParam>[] = new Array(list.length);
  let reportsParts = false;
  for (let i = 0; i < list.length; i++) {
    const part = partOf(list[i]!);
    if (formData && part.name == null) {
      throw new MultipartError(
        'ERR_INVALID_NAME',
        `part ${i + 1} has no name, and every part of a multipart/form-data body needs one (nameless parts belong in subtype 'related' or 'mixed')`,
      );
    }
    reportsParts ||= part.owner.cb !== undefined || isNested(part.data);
    parts[i] = part;
  }
  return { parts, reportsParts };
}

/**
 * Parts planned between two looks at the clock: few enough that a slice of file parts (each head made
 * into bytes) stays within the loop's time slice, so 100,000 fields or 2,000 files never hold it for long.
 */
const PLAN_STEP = 64;

async function planInSlices(
  parts: readonly Part<MultipartParam>[],
  framing: Framing,
  turns: LoopTurns,
): Promise<Plan<MultipartParam>> {
  const plan = new Plan<MultipartParam>(framing);
  for (let start = 0; start < parts.length; start += PLAN_STEP) {
    if (turns.due) await turns.turn();
    const end = Math.min(start + PLAN_STEP, parts.length);
    for (let i = start; i < end; i++) plan.add(parts[i]!);
  }
  plan.close();
  return plan;
}

/**
 * A single file or stream as a whole request body, not multipart (a PUT to a presigned URL,
 * say), or a byte range of one (`start`, `end`: one part of a multipart upload). A string is a
 * file path. The result has the same shape as `multipartEncode`'s, so `upload()` and every HTTP
 * client take it alike.
 */
export async function rawBody(
  source: string | Uint8Array | Blob | BlobLike | StreamLike,
  options: RawBodyOptions = {},
): Promise<EncodedBody> {
  const given = readOnce(checkOptionKeys(options, RAW_BODY_OPTIONS, encodeOptionError), RAW_BODY_OPTIONS);
  checkByteCount(given.size, 'size', encodeOptionError);
  const spooling = spoolSettings(given.spool, encodeOptionError);
  checkContentType(given.type, 'body');
  const settings = readSettings(given);
  const param = await rawParam(source, given);
  const spooled: string[] = [];
  const [{ data }] = (await spoolParts([partOf(param)], spooling, spooled, given.signal)) as [Part<MultipartParam>];
  const pieces = unframedPieces({ owner: param, name: 'body', data: data as Uint8Array | ByteSource }); // rawBody makes no text or nested part
  return Object.freeze(encodedBody(new Body(pieces, settings), pieces, param.filetype ?? OCTET_STREAM, spooled));
}

/** The whole body as one part: a file (by path), bytes, a Blob, each maybe a range of it, or a stream. */
async function rawParam(
  source: string | Uint8Array | Blob | BlobLike | StreamLike,
  { type, size, start, end }: RawBodyOptions,
): Promise<MultipartParam> {
  const typed = type === undefined ? {} : { filetype: type };
  if (typeof source === 'string') {
    const range = { ...(start === undefined ? {} : { start }), ...(end === undefined ? {} : { end }) };
    return sizedAsDeclared(await MultipartParam.fromFile('body', source, { ...typed, ...range }), size);
  }
  const sized: MultipartParamOptions = { ...typed, ...(size === undefined ? {} : { filesize: size }) };
  if (source instanceof Uint8Array) {
    const [from, to] = checkByteRange(start, end, source.length, 'the bytes', 'body');
    const value = from === 0 && to === source.length ? source : source.subarray(from, to);
    return new MultipartParam('body', { ...sized, value, filetype: type ?? OCTET_STREAM });
  }
  if (isBlobLike(source)) {
    const blobSize = source.size; // read once: a getter could answer otherwise to the range check and the slice
    const [from, to] = checkByteRange(start, end, blobSize, 'the Blob', 'body');
    if (from === 0 && to === blobSize) return new MultipartParam('body', { fileobj: source, ...sized });
    // The slice is held to the range's length: a Blob-like that lies fails typed, never sends another range.
    return new MultipartParam('body', { fileobj: sliceOf(source, from, to), ...sized, filesize: size ?? to - from });
  }
  if (start !== undefined || end !== undefined) {
    throw new MultipartError(
      'ERR_INVALID_OPTION',
      'start and end take a file, a Blob or bytes; a stream cannot be cut without reading it',
      { paramName: 'body' },
    );
  }
  return new MultipartParam('body', { fileobj: source, ...sized });
}

/** The range `from`..`to` of a Blob-like; a `slice()` that throws fails typed. */
function sliceOf(blob: BlobLike, from: number, to: number): BlobLike {
  try {
    return blob.slice(from, to, blobType(blob));
  } catch (cause) {
    throw new MultipartError('ERR_SOURCE_FAILED', `the Blob could not be sliced: ${messageOf(cause)}`, {
      paramName: 'body',
      cause,
    });
  }
}

/** A file's `size`, when given, must be the size of what is sent (as a param's `filesize` must). */
function sizedAsDeclared(param: MultipartParam, size: number | undefined): MultipartParam {
  if (size !== undefined && size !== param.size) {
    throw new MultipartError('ERR_SIZE_MISMATCH', `size ${size} does not match the file's ${param.size} bytes`, {
      paramName: 'body',
    });
  }
  return param;
}
