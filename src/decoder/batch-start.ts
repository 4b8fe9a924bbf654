import {
  checkDecodeOptions,
  checkLimit,
  decodeOptionsOf,
  DEFAULT_MAX_BUFFERED,
  type DecodeOptions,
} from './options.js';
import type { DecodeSource } from './source.js';
import { decodeStart, type DecodeStart } from './start.js';

/** What decodeBatch() reads, all checked: the outer body, the limits for each changeset, the largest inner response. */
export interface BatchStart {
  parts: DecodeStart;
  limits: DecodeOptions;
  maxBytes: number;
}

/** Checks the options and the source of decodeBatch(). */
export function batchStart(source: DecodeSource, options?: DecodeOptions & { maxResponseBytes?: number }): BatchStart {
  const checked = checkDecodeOptions(options, ['maxResponseBytes']);
  const maxBytes = checkLimit(options?.maxResponseBytes, 'maxResponseBytes', DEFAULT_MAX_BUFFERED);
  return { parts: decodeStart(source, decodeOptionsOf(checked)), limits: { ...checked.limits }, maxBytes };
}
