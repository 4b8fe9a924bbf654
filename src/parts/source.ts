import type { BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe } from '../common/validate.js';
import { isDetached } from '../multipart/bytes.js';
import { rawBody, type EncodedBody } from '../multipart/encode.js';
import { isBlobLike, type BlobLike } from '../multipart/sources.js';
import { PartsError } from './errors.js';
import { messageOf } from '../common/messages.js';

/** Bytes read from the file at a time for a piece, into blocks all the pieces of an upload share. */
export const PIECE_BLOCK_SIZE = 256 * 1024;

/** What `uploadParts` sends: a file path, bytes, or a Blob (anything `rawBody()` can read again). */
export type PartsSource = string | Uint8Array | Blob | BlobLike;

/** A file's identity: a session is resumed only into the file it began with. */
export interface FileIdentity {
  path: string;
  size: number;
  mtimeNs: string;
  ino: string;
  dev: string;
}

export interface Source {
  readonly size: number;
  /** Set for a file path; bytes and Blobs have no identity and keep no session. */
  readonly file: FileIdentity | undefined;
  /** The bytes `start`..`end` as a request body, read when sent. */
  body(start: number, end: number): Promise<EncodedBody>;
  /** Throws ERR_SOURCE_CHANGED when the file is no longer the one the upload began with. */
  checkUnchanged(): Promise<void>;
}

export async function openSource(source: unknown): Promise<Source> {
  if (typeof source === 'string') return fileSource(source);
  if (source instanceof Uint8Array || isBlobLike(source)) {
    const data = source;
    const size = data instanceof Uint8Array ? data.length : data.size;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new PartsError('ERR_INVALID_VALUE', `the source's size must be a whole number of bytes, not ${size}`);
    }
    if (data instanceof Uint8Array && isDetached(data.buffer)) {
      throw new PartsError(
        'ERR_INVALID_VALUE',
        "the source's bytes are over an ArrayBuffer that was transferred (detached), which holds nothing to send",
      );
    }
    // Bytes whose buffer was resized or transferred since are another source than the one planned.
    const checkLength = () => {
      if (data instanceof Uint8Array && data.byteLength !== size)
        throw new PartsError(
          'ERR_SOURCE_CHANGED',
          `the source's bytes changed length from ${size} to ${data.byteLength} while they were sent (a resized or transferred buffer)`,
        );
    };
    return {
      size,
      file: undefined,
      // The piece's size is declared: a Blob whose slice holds other than end - start bytes (a
      // BlobLike whose size lies) fails the piece, rather than sending a part of another size.
      body: async (start, end) => {
        checkLength();
        return rawBody(data, { start, end, size: end - start, blockSize: PIECE_BLOCK_SIZE });
      },
      checkUnchanged: async () => checkLength(),
    };
  }
  throw new PartsError(
    'ERR_INVALID_VALUE',
    `the source must be a file path, bytes or a Blob (something that can be read again), not ${describe(source)}`,
  );
}

async function identify(path: string): Promise<FileIdentity> {
  let stats;
  try {
    stats = await stat(path, { bigint: true });
  } catch (cause) {
    throw new PartsError('ERR_INVALID_VALUE', `cannot read ${JSON.stringify(path)}: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (!stats.isFile()) throw new PartsError('ERR_INVALID_VALUE', `${JSON.stringify(path)} is not a regular file`);
  return identityOf(path, stats);
}

function identityOf(path: string, stats: BigIntStats): FileIdentity {
  return {
    path,
    size: Number(stats.size),
    mtimeNs: String(stats.mtimeNs),
    ino: String(stats.ino),
    dev: String(stats.dev),
  };
}

export function sameFile(a: Omit<FileIdentity, 'path'>, b: Omit<FileIdentity, 'path'>): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino && a.dev === b.dev;
}

async function fileSource(given: string): Promise<Source> {
  if (given === '') throw new PartsError('ERR_INVALID_VALUE', 'the source path is empty');
  const path = resolve(given);
  const file = await identify(path);
  const checkUnchanged = async () => {
    let now: BigIntStats | undefined;
    try {
      now = await stat(path, { bigint: true });
    } catch (cause) {
      // A failure that is not the file's absence (EIO, EACCES...) says nothing of whether it changed.
      const code = (cause as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        throw new PartsError('ERR_PIECE_FAILED', `cannot check ${JSON.stringify(path)}: ${messageOf(cause)}`, {
          cause,
        });
      }
    }
    if (now === undefined || !now.isFile() || !sameFile(identityOf(path, now), file)) {
      throw new PartsError(
        'ERR_SOURCE_CHANGED',
        `${JSON.stringify(path)} changed (or was replaced or removed) while it was being uploaded`,
      );
    }
  };
  return {
    size: file.size,
    file,
    async body(start, end) {
      await checkUnchanged();
      try {
        return await rawBody(path, { start, end, blockSize: PIECE_BLOCK_SIZE });
      } catch (cause) {
        // The file shrank or went between the check and the read.
        throw new PartsError('ERR_SOURCE_CHANGED', `${JSON.stringify(path)} changed while it was being uploaded`, {
          cause,
        });
      }
    },
    checkUnchanged,
  };
}
