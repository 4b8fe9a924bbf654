import { onFirstUse } from '../common/lazy.js';
import type { UploadPartsOptions } from './options.js';
import type { PartsContext, ProtocolImpl } from './protocol.js';
import type { PartsSource } from './source.js';

// The engine and the protocols' requests are chunks of their own, loaded by the first upload: the
// protocols' option checks stay here, so that s3Parts(), tus() and googleResumable() throw at once.
const engine = onFirstUse(() => import('./engine-loaded.js'));
export const protocolSteps = onFirstUse(() => import('./steps.js'));

/**
 * Sends a file (or bytes, or a Blob) in pieces with `protocol`: `concurrency` pieces at a time,
 * each retried on its own, resumed from a saved session after a restart. On a piece refused for
 * good or an abort, no piece starts, those in flight are stopped, the protocol's abandon step
 * runs (unless `keepSession`) and the promise rejects with a PartsError listing what was stored.
 */
export function uploadParts<Result>(source: PartsSource, options: UploadPartsOptions<Result>): Promise<Result> {
  return engine().then((module) => module.uploadParts(source, options));
}

/** A protocol's steps that send requests, in the chunk loaded by an upload's first step. */
export interface ProtocolSteps<Settings, State, Result, Work> {
  begin(ctx: PartsContext, settings: Settings): Promise<State>;
  resume(ctx: PartsContext, settings: Settings, state: State): Promise<boolean>;
  /** Sends one item of the work left (an S3 part number, a lane's index). */
  run(ctx: PartsContext, settings: Settings, state: State, work: Work): Promise<void>;
  finish(ctx: PartsContext, settings: Settings, state: State): Promise<Result>;
  abandon(ctx: PartsContext, settings: Settings, state: State): Promise<void>;
}

type DeferredPart = 'begin' | 'resume' | 'work' | 'finish' | 'abandon';

/**
 * The steps of a ProtocolImpl that load the protocol's requests on first use; `workLeft` lists
 * what remains to send (synchronously, as the engine asks for it), each item sent by `steps.run`.
 */
export function deferredSteps<Settings, State, Result, Work>(
  load: () => Promise<ProtocolSteps<Settings, State, Result, Work>>,
  settings: Settings,
  workLeft: (ctx: PartsContext, state: State) => Work[],
): Pick<ProtocolImpl<Result, State>, DeferredPart> {
  return {
    begin: async (ctx) => (await load()).begin(ctx, settings),
    resume: async (ctx, state) => (await load()).resume(ctx, settings, state),
    work: (ctx, state) =>
      workLeft(ctx, state).map((item) => async () => (await load()).run(ctx, settings, state, item)),
    finish: async (ctx, state) => (await load()).finish(ctx, settings, state),
    abandon: async (ctx, state) => (await load()).abandon(ctx, settings, state),
  };
}
