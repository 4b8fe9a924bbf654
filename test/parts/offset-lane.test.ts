import { describe, expect, it } from 'vitest';
import {
  googleResumable,
  PartsError,
  tus,
  uploadParts,
  type PartsProtocol,
  type RetryOptions,
} from '../../src/index.js';
import { tempDir } from '../helpers/files.js';
import { startGoogleFake } from './fakes/google.js';
import { startTusServer } from './fakes/tus-server.js';
import { MiB, randomFile } from './helpers.js';

// The lanes of tus and Google: a piece refused is followed by a status query, and the two make one
// round of the caller's retries, as one request and its retry are for upload().

/** A server of each protocol whose pieces are refused with 503 `refusals` times (Infinity: always); the pieces it got counted. */
async function refusing(kind: 'tus' | 'google', refusals: number) {
  let refused = 0;
  if (kind === 'tus') {
    const server = await startTusServer(tempDir());
    server.fault = (req) => (req.method === 'PATCH' && refused++ < refusals ? { status: 503 } : undefined);
    return {
      protocol: tus({ endpoint: server.endpoint }) as PartsProtocol<unknown>,
      pieces: () => server.log.filter((line) => line.startsWith('PATCH')).length,
    };
  }
  const fake = await startGoogleFake();
  fake.fault = ({ method, range }) =>
    method === 'PUT' && !range?.startsWith('bytes */') && refused++ < refusals ? { status: 503 } : undefined;
  return {
    protocol: googleResumable({ start: fake.start }) as PartsProtocol<unknown>,
    pieces: () => fake.log.filter((line) => line.startsWith('PUT') && !line.includes('*/')).length,
  };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('the upload should have failed'),
    (error: unknown) => error as PartsError,
  );

describe.each(['tus', 'google'] as const)('%s: a refused piece and its status query are one retry', (kind) => {
  it('two refusals with retry.limit 2: retried twice, stored', async () => {
    const { protocol, pieces } = await refusing(kind, 2);
    const attempts: number[] = [];
    const retry: RetryOptions = { limit: 2, backoff: () => 1, onRetry: ({ attempt }) => void attempts.push(attempt) };
    await uploadParts(randomFile(tempDir(), 'a.bin', MiB).path, { protocol, store: false, retry });
    expect(attempts).toEqual([1, 2]);
    expect(pieces()).toBe(3);
  });

  it('refused for good with retry.limit 6: six retries, numbered 1 to 6, then ERR_PIECE_FAILED', async () => {
    const { protocol, pieces } = await refusing(kind, Infinity);
    const attempts: number[] = [];
    const retry: RetryOptions = { limit: 6, backoff: () => 1, onRetry: ({ attempt }) => void attempts.push(attempt) };
    const error = await failure(
      uploadParts(randomFile(tempDir(), 'b.bin', MiB).path, { protocol, store: false, retry }),
    );
    expect(error.code).toBe('ERR_PIECE_FAILED');
    expect(attempts).toEqual([1, 2, 3, 4, 5, 6]);
    expect(pieces()).toBe(7);
  });

  it('retry.maxRetryTime: no retry starts past it, however many the limit allows', async () => {
    const { protocol, pieces } = await refusing(kind, Infinity);
    const retry: RetryOptions = { limit: 40, backoff: () => 400, maxRetryTime: 1000 };
    const error = await failure(
      uploadParts(randomFile(tempDir(), 'c.bin', MiB).path, { protocol, store: false, retry }),
    );
    expect(error.code).toBe('ERR_PIECE_FAILED');
    // Retries start at about 400 and 800 ms; the third would wait past 1,200 ms. Without the bound: 41 pieces.
    expect(pieces()).toBeLessThanOrEqual(3);
    expect(pieces()).toBeGreaterThanOrEqual(2);
  });
});
