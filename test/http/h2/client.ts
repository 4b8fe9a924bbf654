import { afterAll, expect } from 'vitest';
import { UploadError } from '../../../src/common/errors.js';
import { sendH2, type H2Answer, type H2Request } from '../../../src/http/h2/attempt.js';
import type { Http2Mode, TlsSettings } from '../../../src/http/h2/connect.js';
import { Http2Pool, type PoolOptions } from '../../../src/http/h2/pool.js';
import { rawBody, type EncodedBody } from '../../../src/multipart/encode.js';
import { bytes } from '../../helpers/files.js';
import { tls } from '../../helpers/servers.js';

/** A pool for one test file, closed after it. */
export function testPool(options: PoolOptions = {}): Http2Pool {
  const pool = new Http2Pool(options);
  afterAll(() => pool.close());
  return pool;
}

export const trustTestCa: TlsSettings = { ca: tls.ca };

export interface PostOptions extends Partial<Omit<H2Request, 'url' | 'body' | 'headers'>> {
  headers?: Record<string, string>;
  mode?: Http2Mode;
  tls?: TlsSettings;
}

/** One request through the pool: a place on a session, then the stream; the answer as it came. */
export async function send(
  pool: Http2Pool,
  url: string,
  body: EncodedBody | undefined,
  options: PostOptions = {},
): Promise<H2Answer> {
  const target = new URL(url);
  const signal = options.signal ?? new AbortController().signal;
  const acquired = await pool.acquire(
    target,
    {
      mode: options.mode ?? true,
      tls: options.tls ?? (target.protocol === 'https:' ? trustTestCa : undefined),
      tunnel: undefined,
    },
    signal,
  );
  if (acquired.protocol !== 'h2') {
    acquired.socket?.destroy();
    throw new Error(`ALPN chose ${acquired.protocol}`);
  }
  const headers = new Headers(options.headers);
  if (body !== undefined) for (const [name, value] of Object.entries(body.headers)) headers.set(name, value);
  return sendH2(acquired.lease, {
    url: target,
    method: options.method ?? 'POST',
    headers,
    body,
    signal,
    onUploadProgress: options.onUploadProgress,
    onBodySent: options.onBodySent,
    onLateFailure: options.onLateFailure,
    maxRate: options.maxRate,
    attempts: [],
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
}

/** The answer's body as text; the stream is then let go of as upload() would. */
export async function text(answer: H2Answer): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of answer.stream) chunks.push(chunk as Buffer);
  answer.close();
  return Buffer.concat(chunks).toString();
}

/** Sends and reads the answer as JSON. */
export async function post<T = unknown>(
  pool: Http2Pool,
  url: string,
  body: EncodedBody | undefined,
  options: PostOptions = {},
): Promise<{ status: number; json: T; bodySent: boolean }> {
  const answer = await send(pool, url, body, options);
  const raw = await text(answer);
  return { status: answer.status, json: (raw === '' ? undefined : JSON.parse(raw)) as T, bodySent: answer.bodySent };
}

/** Waits for a condition the test's servers make true; bounded by the test's timeout. */
export async function until(condition: () => boolean): Promise<void> {
  for (let turns = 0; !condition(); turns++) {
    if (turns > 10_000) throw new Error('condition never became true');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The typed failure of a promise that was expected to reject. */
export async function failure(promise: Promise<unknown>): Promise<UploadError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UploadError);
  return error as UploadError;
}

/** The `code` of a failure's cause (the HTTP/2 reason, or the socket's). */
export const causeCode = (error: UploadError) => (error.cause as { code?: string } | undefined)?.code;

/**
 * 100 uploads of 2 MiB the server resets mid-body with CANCEL (asked for by `headers`), then one it
 * takes whole, all on one session: Node's server charges its session for what was in flight on each
 * reset stream, and must not refuse the next one.
 */
export async function resetStorm(
  pool: Http2Pool,
  server: { url: string; sessions: unknown[] },
  headers: Record<string, string>,
): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const error = await failure(post(pool, server.url, await rawBody(bytes(2 * 1024 * 1024)), { headers }));
    expect(causeCode(error)).toBe('CANCEL');
  }
  expect((await post<{ size: number }>(pool, server.url, await rawBody(bytes(100)))).json.size).toBe(100);
  expect(server.sessions).toHaveLength(1);
}
