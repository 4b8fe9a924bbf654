import { chmodSync, linkSync, statSync, utimesSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  googleResumable,
  PartsError,
  tus,
  uploadParts,
  type PartsProtocol,
  type PartsSession,
  type SessionStore,
} from '../../src/index.js';
import { tempDir } from '../helpers/files.js';
import { startGoogleFake } from './fakes/google.js';
import { startS3Fake } from './fakes/s3.js';
import { startTusSpecServer } from './fakes/tus-spec.js';
import { KiB, randomFile, s3ForFake, sha256 } from './helpers.js';

const SIZE = 20_001;

/** A session of `path` as this call would key it, with the file's identity, the target, and a hostile state. */
function sessionOf(path: string, protocol: string, target: string, partSize: number, state: unknown): PartsSession {
  const stats = statSync(path, { bigint: true });
  return {
    version: 1,
    protocol,
    target,
    path,
    size: Number(stats.size),
    mtimeNs: String(stats.mtimeNs),
    ino: String(stats.ino),
    dev: String(stats.dev),
    partSize,
    state,
    updated: new Date().toISOString(),
  };
}

/** A store holding one session at first; what the run writes replaces it, what it removes is gone. */
function storeWith(session: PartsSession): SessionStore & { current: () => PartsSession | undefined } {
  let saved: PartsSession | undefined = session;
  return {
    get: () => saved,
    set: (_key, value) => void (saved = value),
    delete: () => void (saved = undefined),
    current: () => saved,
  };
}

/** Runs the upload with the saved session: it must begin afresh, store the file whole, and leave no session. */
async function runsAfresh<Result>(
  path: string,
  protocol: PartsProtocol<Result>,
  session: PartsSession,
  partSize?: number,
): Promise<Result> {
  const store = storeWith(session);
  const result = await uploadParts(path, { protocol, store, ...(partSize === undefined ? {} : { partSize }) });
  expect(store.current()).toBeUndefined();
  return result;
}

describe('a saved session that is not a whole plan of this file is never resumed: the upload begins afresh', () => {
  const part = (start: number, size: number, etag: unknown = '"e"') => ({ start, size, etag });
  it.each<[string, number, unknown]>([
    ['S3 parts of 1 byte (more than 10,000)', 1, { uploadId: 'old', parts: {} }],
    ['a part that is null', 8 * KiB, { uploadId: 'old', parts: { 1: null } }],
    ['an ETag that is a number', 8 * KiB, { uploadId: 'old', parts: { 1: part(0, 8 * KiB, 5) } }],
    ['a part of the wrong size', 8 * KiB, { uploadId: 'old', parts: { 1: part(0, 5) } }],
    ['a part past the last', 8 * KiB, { uploadId: 'old', parts: { 4: part(3 * 8 * KiB, 8 * KiB) } }],
    ['a part number that is not one', 8 * KiB, { uploadId: 'old', parts: { x: part(0, 8 * KiB) } }],
    ['an empty UploadId', 8 * KiB, { uploadId: '', parts: {} }],
    ['parts that are a list', 8 * KiB, { uploadId: 'old', parts: [] }],
  ])('S3: %s', async (_name, partSize, state) => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'a.bin', SIZE);
    // Without listUrl the saved parts are taken as they are (nothing asks the server for them).
    const protocol = s3ForFake(fake, 'a.bin', { key: 'a.bin', listUrl: undefined });
    // The session's upload exists on the server, so that a resume would go on to use its parts.
    const created = await fetch(fake.presign('POST', 'a.bin', { uploads: '' }), { method: 'POST' });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())![1]!;
    const saved = { ...(state as object), uploadId: (state as { uploadId: string }).uploadId && uploadId };
    await runsAfresh(file.path, protocol, sessionOf(file.path, 's3', 'a.bin', partSize, saved), 8 * KiB);
    expect(fake.objects.get('a.bin')!.sha256).toBe(file.sha256);
  });

  const lane = (url: string, start: number, end: number, offset = start) => ({ url, start, end, offset });
  it.each<[string, (url: string) => unknown]>([
    ['a lane that is null', () => ({ lanes: [null], concat: false })],
    ['no lanes', () => ({ lanes: [], concat: false })],
    ['one lane over half the file', (url) => ({ lanes: [lane(url, 0, 10_000)], concat: false })],
    ['an offset past its lane', (url) => ({ lanes: [lane(url, 0, SIZE, SIZE + 1)], concat: false })],
    ['an upload URL that is a file', () => ({ lanes: [lane('file:///etc/passwd', 0, SIZE)], concat: false })],
    ['two lanes without concatenation', (url) => ({ lanes: [lane(url, 0, 1), lane(url, 1, SIZE)], concat: false })],
    // What a run killed while it made its partial uploads leaves: the one made is terminated.
    ['partial uploads that cover the first half only', (url) => ({ lanes: [lane(url, 0, 10_000)], concat: true })],
    [
      'two partial uploads at one URL',
      (url) => ({ lanes: [lane(url, 0, 10_000), lane(url, 10_000, SIZE)], concat: true }),
    ],
  ])('tus: %s', async (name, stateOf) => {
    const server = await startTusSpecServer();
    const file = randomFile(tempDir(), 'b.bin', SIZE);
    const old = `${server.endpoint}old`;
    const protocol = tus({ endpoint: server.endpoint });
    const target = new URL(server.endpoint).origin + new URL(server.endpoint).pathname;
    const result = await runsAfresh(file.path, protocol, sessionOf(file.path, 'tus', target, SIZE, stateOf(old)));
    expect(sha256(server.bytes(result.url))).toBe(file.sha256);
    const shapeIsOne = !/null|^no lanes|past|is a file/.test(name);
    // A session of the right shape is abandoned (its uploads terminated); one that is not is only removed.
    expect(server.log.includes('DELETE /files/old')).toBe(shapeIsOne);
  });

  it.each<[string, number, unknown]>([
    ['an offset past the file', 256 * KiB, { url: 'OLD', offset: SIZE + 1 }],
    ['a negative offset', 256 * KiB, { url: 'OLD', offset: -1 }],
    ['a final answer that is a string', 256 * KiB, { url: 'OLD', offset: 0, final: 'done' }],
    ['pieces of 1 byte (not a multiple of 256 KiB)', 1, { url: 'OLD', offset: 0 }],
    ['a session URL that is a file', 256 * KiB, { url: 'file:///etc/passwd', offset: 0 }],
  ])('Google: %s', async (_name, partSize, state) => {
    const fake = await startGoogleFake();
    const file = randomFile(tempDir(), 'c.bin', SIZE);
    const protocol = googleResumable({ start: fake.start, key: 'c.bin' });
    // The session exists on the server, so that a resume would go on from the offset it holds.
    const created = await fetch(fake.start, { method: 'POST', headers: { 'x-upload-content-length': String(SIZE) } });
    const { url } = state as { url: string };
    const old = { ...(state as object), url: url === 'OLD' ? created.headers.get('location')! : url };
    await runsAfresh(file.path, protocol, sessionOf(file.path, 'google-resumable', 'c.bin', partSize, old));
    const done = [...fake.sessions.values()].filter((session) => session.done);
    expect(done).toHaveLength(1);
    expect(sha256(Buffer.concat(done[0]!.data))).toBe(file.sha256);
  });
});

describe("a change of the file's metadata alone is not a changed file: the upload is resumed", () => {
  // The ctime moves with these and the content does not: it is not part of a file's identity.
  const changes: Array<[string, (path: string) => void]> = [
    ['chmod', (path) => chmodSync(path, 0o600)],
    ['a hard link made', (path) => linkSync(path, `${path}.link`)],
    ['the access time set back (a scanner)', (path) => utimesSync(path, 1_000, WHOLE_SECONDS)],
  ];
  /** An mtime utimes sets exactly (a Date would lose its nanoseconds). */
  const WHOLE_SECONDS = 1_000_000;
  it.each(changes)('%s between runs', async (_what, change) => {
    const server = await startTusSpecServer();
    const file = randomFile(tempDir(), 'meta.bin', SIZE);
    utimesSync(file.path, WHOLE_SECONDS, WHOLE_SECONDS);
    const created = await fetch(server.endpoint, {
      method: 'POST',
      headers: { 'tus-resumable': '1.0.0', 'upload-length': String(SIZE) },
    });
    const url = new URL(created.headers.get('location')!, server.endpoint).href;
    const target = new URL(server.endpoint).origin + new URL(server.endpoint).pathname;
    const lanes = [{ url, start: 0, end: SIZE, offset: 0 }];
    const store = storeWith(sessionOf(file.path, 'tus', target, SIZE, { lanes, concat: false }));
    change(file.path);
    const result = await uploadParts(file.path, { protocol: tus({ endpoint: server.endpoint }), store });
    expect(result.url).toBe(url);
    expect(sha256(server.bytes(url))).toBe(file.sha256);
    expect(server.log.some((line) => line.startsWith('DELETE'))).toBe(false);
  });
});

describe("what your store's get returns is read once, as plain JSON", () => {
  const throwing: Array<[string, () => unknown]> = [
    [
      'a getter that throws',
      () => ({
        get version(): number {
          throw new Error('store gone');
        },
      }),
    ],
    [
      'a Proxy that throws',
      () =>
        new Proxy(
          {},
          {
            get() {
              throw new Error('store gone');
            },
          },
        ),
    ],
  ];
  it.each(throwing)('%s: ERR_STORE_FAILED, nothing sent', async (_name, value) => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'g.bin', 100);
    const store: SessionStore = { get: () => value() as PartsSession, set: () => {}, delete: () => {} };
    const error = (await uploadParts(file.path, { protocol: s3ForFake(fake, 'g.bin'), store }).catch(
      (e: unknown) => e,
    )) as PartsError;
    expect(error).toBeInstanceOf(PartsError);
    expect(error.code).toBe('ERR_STORE_FAILED');
    expect(fake.log).toEqual([]);
  });

  it('the session it keeps is not changed by the run that resumes it', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'h.bin', 3 * KiB);
    /** Signs parts `from`..`to` only: the run stops at the next one, keeping its session. */
    const signing = (from: number, to: number) =>
      s3ForFake(fake, 'h.bin', {
        partUrl: (n, { uploadId }) =>
          n >= from && n <= to
            ? fake.presign('PUT', 'h.bin', { partNumber: String(n), uploadId })
            : Promise.reject(new Error('not signed')),
      });
    const saved = new Map<string, PartsSession>();
    const options = { partSize: KiB, concurrency: 1, keepSession: true };
    const store: SessionStore = { get: (key) => saved.get(key), set: () => {}, delete: () => {} };
    await uploadParts(file.path, {
      protocol: signing(1, 1),
      ...options,
      store: { ...store, set: (key, session) => void saved.set(key, session) },
    }).catch(() => {});
    const [key] = saved.keys();
    const before = JSON.stringify(saved.get(key!));
    expect(Object.keys((saved.get(key!)!.state as { parts: object }).parts)).toEqual(['1']);
    // Stores part 2, into its own copy of the session: the store wrote nothing, so it keeps part 1 alone.
    await uploadParts(file.path, { protocol: signing(2, 2), ...options, store }).catch(() => {});
    expect(fake.log.filter((line) => line.startsWith('PUT'))).toHaveLength(2);
    expect(JSON.stringify(saved.get(key!))).toBe(before);
  });
});

describe('the session names the destination: another object is never resumed into', () => {
  /** A store in memory, by key. */
  const memoryStore = (): SessionStore => {
    const saved = new Map<string, PartsSession>();
    return {
      get: (key) => saved.get(key),
      set: (key, session) => void saved.set(key, session),
      delete: (key) => void saved.delete(key),
    };
  };

  it("Google: the object's name is in the start URL's query; its signature is not part of the name", async () => {
    const fake = await startGoogleFake();
    const file = randomFile(tempDir(), 'g.bin', 3 * 256 * KiB);
    const store = memoryStore();
    const startOf = (name: string, signature: string) =>
      fake.start.replace('name=big.bin', `name=${name}&X-Goog-Signature=${signature}&Expires=${signature}`);
    let puts = 0;
    fake.fault = ({ method, range }) =>
      method === 'PUT' && !range?.includes('*') && ++puts === 2 ? { status: 400 } : undefined;
    const options = { partSize: 256 * KiB, store, keepSession: true };
    const failed = await uploadParts(file.path, {
      ...options,
      protocol: googleResumable({ start: startOf('a.bin', '1') }),
    }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'ERR_PIECE_FAILED', stored: [{ start: 0, end: 256 * KiB }] });
    const other = await uploadParts(file.path, {
      ...options,
      protocol: googleResumable({ start: startOf('b.bin', '2') }),
    });
    expect(other.resumedBytes).toBe(0);
    expect(fake.sessions.size).toBe(2);
    // The first object's session, signed anew, is still found.
    const same = await uploadParts(file.path, {
      ...options,
      protocol: googleResumable({ start: startOf('a.bin', '3') }),
    });
    expect(same.resumedBytes).toBe(256 * KiB);
    expect(fake.sessions.size).toBe(2);
  });

  it('tus: the metadata (the file name) is part of the name, in whatever order it is given', async () => {
    const server = await startTusSpecServer();
    const file = randomFile(tempDir(), 't.bin', 3 * 64 * KiB);
    const store = memoryStore();
    let patches = 0;
    server.corrupt = () => ++patches === 2;
    const options = { partSize: 64 * KiB, store, keepSession: true };
    const failed = await uploadParts(file.path, {
      ...options,
      protocol: tus({ endpoint: server.endpoint, parallel: false, metadata: { filename: 'a.bin', type: 'x' } }),
    }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'ERR_CHECKSUM_MISMATCH', stored: [{ start: 0, end: 64 * KiB }] });
    const other = await uploadParts(file.path, {
      ...options,
      protocol: tus({ endpoint: server.endpoint, parallel: false, metadata: { filename: 'b.bin', type: 'x' } }),
    });
    expect(other.resumedBytes).toBe(0);
    const same = await uploadParts(file.path, {
      ...options,
      protocol: tus({ endpoint: server.endpoint, parallel: false, metadata: { type: 'x', filename: 'a.bin' } }),
    });
    expect(same.resumedBytes).toBe(64 * KiB);
    expect(sha256(server.bytes(same.url))).toBe(file.sha256);
  });
});

describe('once the upload is whole on the server', () => {
  it('an abort while the session is removed does not undo it: the result is returned, the session gone', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const file = randomFile(tempDir(), 'i.bin', 3 * KiB);
    const saved = new Map<string, PartsSession>();
    const controller = new AbortController();
    const store: SessionStore = {
      get: (key) => saved.get(key),
      set: (key, session) => void saved.set(key, session),
      // The caller gives up just as the session is being removed, after CompleteMultipartUpload.
      delete: async (key) => {
        controller.abort();
        await new Promise((resolve) => setTimeout(resolve, 20));
        saved.delete(key);
      },
    };
    const result = await uploadParts(file.path, {
      protocol: s3ForFake(fake, 'i.bin'),
      partSize: KiB,
      store,
      signal: controller.signal,
    });
    expect(result.completed).toBe(true);
    expect(saved.size).toBe(0);
    expect(fake.objects.get('i.bin')?.sha256).toBe(file.sha256);
  });
});
