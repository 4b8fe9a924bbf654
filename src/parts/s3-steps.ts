import { UploadError } from '../common/errors.js';
import { messageOf } from '../common/messages.js';
import { describe } from '../common/validate.js';
import { failureReason } from '../http/retry-decision.js';
import type { ProtocolSteps } from './deferred.js';
import { PartsError } from './errors.js';
import { callerValue, checkUrl, GONE, isSuccess, refused, UNCLEAR } from './answers.js';
import type { ControlResponse, PartsContext } from './protocol.js';
import { partCount, type S3PartsResult, type S3Settings } from './s3.js';
import { completeXml, parseComplete, parseInitiate, s3ErrorOf, type CompletedPart } from './s3-xml.js';
import { listParts, s3Detail, sameETag, sendPart, type S3State } from './s3-parts.js';
import { pastRetryTime, tellRetry } from './protocol-retry.js';

/** S3's requests: what s3Parts() loads on an upload's first step. */
export const s3Steps: ProtocolSteps<S3Settings, S3State, S3PartsResult, number> = {
  begin,
  resume,
  run: sendPart,
  finish,
  abandon,
};

async function begin(ctx: PartsContext, settings: S3Settings): Promise<S3State> {
  if (settings.uploadId !== undefined) return { uploadId: settings.uploadId, parts: {} };
  const { start } = settings;
  if (typeof start === 'function') {
    const uploadId = await callerValue('s3Parts start', start, ctx.signal);
    if (typeof uploadId !== 'string' || uploadId === '')
      throw new PartsError('ERR_INVALID_VALUE', `s3Parts start must give the UploadId, not ${describe(uploadId)}`);
    return { uploadId, parts: {} };
  }
  const algorithm: Record<string, string> =
    settings.checksum === 'md5' || settings.checksum === undefined
      ? {}
      : { 'x-amz-checksum-algorithm': settings.checksum.toUpperCase() };
  const response = await ctx.request({
    step: 'start',
    url: start!,
    method: 'POST',
    headers: { ...settings.headers, ...algorithm },
  });
  if (!isSuccess(response.status))
    throw refused('start', 'starting the multipart upload', response, undefined, s3Detail(response.text));
  return { uploadId: parseInitiate(response.text), parts: {} };
}

/** Keeps the parts the server lists with the ETag this session recorded (anything else is sent again); false when the upload is gone. */
async function resume(ctx: PartsContext, settings: S3Settings, state: S3State): Promise<boolean> {
  if (settings.listUrl !== undefined) {
    const listed = await listParts(ctx, settings, state.uploadId, 'resume');
    if (listed === undefined) return false;
    for (const [n, part] of Object.entries(state.parts)) {
      const there = listed.get(Number(n));
      if (there === undefined || !sameETag(there.etag, part.etag) || there.size !== part.size)
        delete state.parts[Number(n)];
    }
  }
  for (const [n, part] of Object.entries(state.parts)) ctx.confirm(Number(n), part.size);
  return true;
}

async function finish(ctx: PartsContext, settings: S3Settings, state: S3State): Promise<S3PartsResult> {
  const parts = completedParts(ctx, state);
  const result = {
    uploadId: state.uploadId,
    parts,
    completed: false,
    location: undefined as string | undefined,
    etag: undefined as string | undefined,
    size: ctx.size,
    resumedBytes: ctx.resumedBytes,
  };
  if (settings.completeUrl === undefined) return result;
  let response = await complete(ctx, settings, state);
  if (response.status === 400 && /InvalidPart/.test(response.text) && settings.listUrl !== undefined) {
    // The server lost a part it had stored: send again what it no longer lists, then complete once more.
    if (await recoverLostParts(ctx, settings, state)) response = await complete(ctx, settings, state);
  }
  if (GONE.has(response.status) && response.retries > 0)
    // An earlier attempt failed without a clear answer (a 500, a reset) and may have completed the
    // upload: NoSuchUpload then cannot tell "lost" from "completed".
    throw refused(
      'complete',
      'completing the multipart upload',
      response,
      'ERR_COMPLETE_UNKNOWN',
      `${s3Detail(response.text) ?? 'gone'}, to a retry of the request: an earlier attempt may have completed the upload`,
    );
  if (GONE.has(response.status))
    throw refused(
      'complete',
      'completing the multipart upload',
      response,
      'ERR_SESSION_EXPIRED',
      s3Detail(response.text),
    );
  if (UNCLEAR.has(response.status))
    throw refused(
      'complete',
      'completing the multipart upload',
      response,
      'ERR_COMPLETE_UNKNOWN',
      `${s3Detail(response.text) ?? 'no clear answer'}: the server may have completed the upload, so it is not aborted`,
    );
  if (!isSuccess(response.status))
    throw refused('complete', 'completing the multipart upload', response, undefined, s3Detail(response.text));
  const { location, etag } = completedAnswer(response);
  return { ...result, parts: completedParts(ctx, state), completed: true, location, etag };
}

/**
 * Asks S3 to complete the upload, and again (within the caller's retries) when it answers 200 with a
 * transient `<Error>`, which S3 documents as a completion that failed and is to be retried.
 * `retries` counts every request sent again. An exchange that may have reached S3 and ended without
 * an answer (a timeout, a reset, an answer cut short) is ERR_COMPLETE_UNKNOWN: S3 may have
 * completed the upload, or be completing it, so it is not aborted.
 */
async function complete(ctx: PartsContext, settings: S3Settings, state: S3State): Promise<ControlResponse> {
  const { policy } = ctx;
  const started = Date.now();
  let retried = 0;
  for (;;) {
    const response = await completeOnce(ctx, settings, state, retried);
    retried += response.retries;
    const error = isSuccess(response.status) ? s3ErrorOf(response.text) : undefined;
    const delay = policy.backoff(retried + 1);
    if (
      error === undefined ||
      !TRANSIENT_ERRORS.has(error.code) ||
      retried >= policy.limit ||
      pastRetryTime(policy, started, delay)
    )
      return { ...response, retries: retried };
    retried++;
    tellRetry(ctx, { attempt: retried, reason: error.code, status: 200, error: undefined, delay, url: response.url });
    await ctx.wait(delay);
  }
}

/**
 * A 200's `CompleteMultipartUploadResult`. An `<Error>` in it is S3 saying the completion failed
 * (ERR_COMPLETE_FAILED); a 200 that cannot be read (cut, not XML) may well be a completion made.
 */
function completedAnswer(response: ControlResponse): { location: string | undefined; etag: string | undefined } {
  try {
    if (response.cut)
      throw new PartsError('ERR_UNEXPECTED_RESPONSE', `the answer is longer than ${COMPLETE_ANSWER_LIMIT} bytes`);
    return parseComplete(response.text);
  } catch (error) {
    if (!(error instanceof PartsError) || error.code !== 'ERR_UNEXPECTED_RESPONSE') throw error;
    throw new PartsError(
      'ERR_COMPLETE_UNKNOWN',
      `completing the multipart upload: the server answered ${response.status} with what cannot be read (${error.message}): it may have completed the upload, so it is not aborted`,
      { status: response.status, url: response.url, cause: error },
    );
  }
}

/** The most of a completion's answer read; one longer, or unreadable, leaves the completion unknown. */
const COMPLETE_ANSWER_LIMIT = 1024 * 1024;

/** The `<Error>` codes of a 200 to CompleteMultipartUpload that S3 says to retry. */
const TRANSIENT_ERRORS = new Set(['InternalError', 'SlowDown', 'ServiceUnavailable', 'RequestTimeout']);

async function completeOnce(
  ctx: PartsContext,
  settings: S3Settings,
  state: S3State,
  retriesBefore: number,
): Promise<ControlResponse> {
  const url = checkUrl(
    await callerValue('s3Parts completeUrl', () => settings.completeUrl!(state.uploadId), ctx.signal),
    'completeUrl',
  );
  completing.add(state);
  let response: ControlResponse;
  try {
    response = await ctx.request({
      step: 'complete',
      url,
      method: 'POST',
      headers: { ...settings.headers, 'content-type': 'application/xml' },
      body: completeXml(completedParts(ctx, state)),
      repeatable: true,
      retriesBefore,
      // S3 may send whitespace while a long completion runs, to keep the connection open.
      limit: COMPLETE_ANSWER_LIMIT,
    });
  } catch (cause) {
    // Stopped by the caller: the upload stays marked, so the abandon step leaves it be.
    if (ctx.signal.aborted) throw cause;
    if (!mayHaveArrived(cause)) {
      completing.delete(state);
      throw cause;
    }
    throw new PartsError(
      'ERR_COMPLETE_UNKNOWN',
      `completing the multipart upload failed before its answer (${messageOf(cause)}): the server may have completed it, so it is not aborted`,
      { cause, url },
    );
  }
  completing.delete(state);
  return response;
}

/** Uploads whose completion was asked for and not answered: aborting one could undo what S3 is completing. */
const completing = new WeakSet<S3State>();

/** Connection failures before a request is sent: a completion that failed only so never reached the server. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL']);

/** Whether a failed request may have reached the server: any attempt answered, or failed past connecting. */
function mayHaveArrived(failure: unknown): boolean {
  const error = failure instanceof PartsError ? failure.cause : failure;
  if (!(error instanceof UploadError)) return false;
  if (error.code !== 'ERR_TIMEOUT' && error.code !== 'ERR_REQUEST_FAILED' && error.code !== 'ERR_UNEXPECTED_RESPONSE')
    return error.attempts.length > 0;
  const last = failureReason(error);
  return !(
    last !== undefined &&
    NEVER_SENT.has(last) &&
    error.attempts.every(({ reason }) => NEVER_SENT.has(String(reason)))
  );
}

async function recoverLostParts(ctx: PartsContext, settings: S3Settings, state: S3State): Promise<boolean> {
  const listed = await listParts(ctx, settings, state.uploadId, 'complete');
  if (listed === undefined) return false;
  const lost = Object.keys(state.parts)
    .map(Number)
    .filter((n) => {
      const there = listed.get(n);
      return there === undefined || !sameETag(there.etag, state.parts[n]!.etag);
    });
  if (lost.length === 0) return false;
  for (const n of lost) delete state.parts[n];
  for (const n of lost) await sendPart(ctx, settings, state, n);
  return true;
}

function completedParts(ctx: PartsContext, state: S3State): CompletedPart[] {
  const parts: CompletedPart[] = [];
  for (let n = 1; n <= partCount(ctx); n++) {
    const part = state.parts[n];
    if (part === undefined) throw new PartsError('ERR_PIECE_FAILED', `part ${n} was never stored`);
    const field = checksumField(part.algorithm);
    const checksum = part.checksum === undefined || field === undefined ? {} : { [field]: part.checksum };
    parts.push({ PartNumber: n, ETag: part.etag, ...checksum });
  }
  return parts;
}

function checksumField(algorithm: string | undefined): 'ChecksumCRC32' | 'ChecksumSHA256' | undefined {
  return algorithm === 'crc32' ? 'ChecksumCRC32' : algorithm === 'sha256' ? 'ChecksumSHA256' : undefined;
}

async function abandon(ctx: PartsContext, settings: S3Settings, state: S3State): Promise<void> {
  if (completing.has(state))
    throw new PartsError(
      'ERR_COMPLETE_UNKNOWN',
      'the completion was asked for and not answered: S3 may be completing the upload, so it is not aborted',
    );
  if (settings.abortUrl === undefined)
    throw new PartsError(
      'ERR_INVALID_OPTION',
      's3Parts has no abortUrl: the stored parts stay until the upload is aborted',
    );
  const url = checkUrl(
    await callerValue('s3Parts abortUrl', () => settings.abortUrl!(state.uploadId), ctx.signal),
    'abortUrl',
  );
  const response = await ctx.request({ step: 'abandon', url, method: 'DELETE', headers: settings.headers });
  if (!isSuccess(response.status) && !GONE.has(response.status))
    throw refused('abandon', 'aborting the multipart upload', response, undefined, s3Detail(response.text));
}
