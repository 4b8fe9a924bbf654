import { messageOf } from '../common/messages.js';
import { GONE, isSuccess, refused, UNCLEAR } from './answers.js';
import { PartsError } from './errors.js';
import type { PartsContext } from './protocol.js';
import { headerInteger, locationOf } from './tus-requests.js';
import type { TusSettings, TusState } from './tus.js';

// The final upload of a parallel tus upload (concatenation): asked for once, and found again by a
// later run. tus offers no way to look an upload up, so a run that stopped between asking for it
// and learning its URL cannot know whether it exists: it says so rather than ask for another.

/** Asks the server to join the partial uploads; the session notes the request before it goes out. */
export async function concatenate(ctx: PartsContext, settings: TusSettings, state: TusState): Promise<void> {
  const partials = state.lanes.map((lane) => lane.url);
  const headers: Record<string, string> = { ...settings.headers, 'upload-concat': `final;${partials.join(' ')}` };
  if (settings.metadata !== undefined) headers['upload-metadata'] = settings.metadata;
  state.finalRequested = true;
  await ctx.save();
  let response;
  try {
    response = await ctx.request({ step: 'complete', url: settings.endpoint!, method: 'POST', headers });
  } catch (cause) {
    // A reset, a timeout: the server may have made the final upload, and only its answer was lost.
    throw new PartsError(
      'ERR_COMPLETE_UNKNOWN',
      `asking ${settings.endpoint} to join the partial uploads failed before its answer (${messageOf(cause)}): ` +
        'the server may hold a final upload this session cannot name (tus cannot look one up), so the partial uploads are kept',
      { cause, url: settings.endpoint },
    );
  }
  if (UNCLEAR.has(response.status)) {
    // A server that failed on its way, or a gateway whose server's answer was lost: the final upload may exist.
    throw new PartsError(
      'ERR_COMPLETE_UNKNOWN',
      `asking ${settings.endpoint} to join the partial uploads was answered ${response.status}: ` +
        'the server may hold a final upload this session cannot name, so the partial uploads are kept',
      { status: response.status, url: settings.endpoint },
    );
  }
  if (response.status !== 201) {
    // An answer other than "created" from the server itself: it made no final upload.
    state.finalRequested = false;
    await ctx.save();
    throw refused('complete', 'concatenating the partial uploads', response);
  }
  state.final = locationOf(response, settings.endpoint!, 'concatenating the partial uploads');
  await ctx.save();
}

/**
 * What a saved session's final upload is now: 'done' when the server holds it whole, 'none' when
 * none was asked for or it is gone (the partial uploads are resumed, and joined again). Throws when
 * one may exist that cannot be named, or exists but is not whole: never a second final upload.
 */
export async function finalOfSession(
  ctx: PartsContext,
  settings: TusSettings,
  state: TusState,
): Promise<'done' | 'none'> {
  const { final } = state;
  if (final === undefined) {
    if (state.finalRequested !== true) return 'none';
    throw new PartsError(
      'ERR_COMPLETE_UNKNOWN',
      `a run stopped between asking ${settings.endpoint} to join the partial uploads and its answer: ` +
        'the server may hold a final upload this session cannot name (tus cannot look one up), so no other is asked for',
      { url: settings.endpoint },
    );
  }
  const response = await ctx.request({ step: 'resume', url: final, method: 'HEAD', headers: settings.headers });
  if (GONE.has(response.status) || response.status === 403) {
    state.final = undefined;
    state.finalRequested = false;
    return 'none';
  }
  if (!isSuccess(response.status)) throw refused('resume', `asking ${final} for its offset`, response);
  // A server still joining the parts sends no Upload-Offset (tus 1.0, concatenation).
  const offset = headerInteger(response, 'upload-offset');
  if (offset === ctx.size) return 'done';
  throw new PartsError(
    'ERR_COMPLETE_FAILED',
    `the final upload ${final} holds ${offset === undefined ? 'no offset yet' : `${offset} of ${ctx.size} bytes`}: it is not whole`,
    { status: response.status, url: final },
  );
}

/**
 * Throws when the session asked for a final upload and never learnt its URL: terminating the
 * partial uploads could destroy what a final upload the server made is joined from.
 */
export function refuseToAbandonUnknownFinal(settings: TusSettings, state: TusState): void {
  if (state.final === undefined && state.finalRequested === true)
    throw new PartsError(
      'ERR_COMPLETE_UNKNOWN',
      `the server at ${settings.endpoint} may hold a final upload joined from the partial uploads: they are kept`,
      { url: settings.endpoint },
    );
}
