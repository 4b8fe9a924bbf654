import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PartsError, tus, uploadParts, type PartsSession, type SessionStore } from '../../src/index.js';
import { tempDir } from '../helpers/files.js';
import { runChild, runKilled, runToEnd } from './child.js';
import { startTusSpecServer, type TusSpecServer } from './fakes/tus-spec.js';
import { KiB, MiB, randomFile, sha256 } from './helpers.js';

const SIZE = 3 * MiB + 5 * KiB;

const finals = (server: TusSpecServer) => [...server.uploads.entries()].filter(([, upload]) => upload.parts);
const partials = (server: TusSpecServer) => [...server.uploads.values()].filter((upload) => upload.partial);

/** A store in memory whose `delete` fails while `crash` is set: the session stays as a killed run leaves it. */
function crashingStore(): SessionStore & { sessions: Map<string, PartsSession>; crash: boolean } {
  const sessions = new Map<string, PartsSession>();
  return {
    sessions,
    crash: true,
    get: (key) => sessions.get(key),
    set: (key, session) => void sessions.set(key, structuredClone(session)),
    delete(key) {
      if (this.crash) throw new Error('killed before the session was removed');
      sessions.delete(key);
    },
  };
}

/** A parallel tus upload that stopped once its final upload was made and saved (the session not yet removed). */
async function stoppedAfterFinal(name: string) {
  const server = await startTusSpecServer();
  const file = randomFile(tempDir(), name, SIZE);
  const store = crashingStore();
  const options = { protocol: tus({ endpoint: server.endpoint }), partSize: MiB, concurrency: 3, store };
  const error = (await uploadParts(file.path, options).catch((e: unknown) => e)) as PartsError;
  store.crash = false;
  return { server, file, store, options, error };
}

describe('tus concatenation: a run stopped around the final upload, then run again', () => {
  it('SIGKILL between the final POST and its answer: the next run reports it, never makes a second one', async () => {
    const server = await startTusSpecServer();
    const dir = tempDir();
    const file = randomFile(dir, 'big.bin', SIZE);
    const config = {
      kind: 'tus',
      endpoint: server.endpoint,
      key: 'big.bin',
      path: file.path,
      store: join(dir, 'sessions'),
      partSize: MiB,
      concurrency: 3,
    };
    await runKilled(config, (kill) => {
      server.onFinal = () => {
        kill();
        return 'hang';
      };
      return undefined;
    });
    expect(finals(server)).toHaveLength(1);
    server.onFinal = () => 'answer';

    const second = await runChild(config).result;
    expect(second.code).toBe(1);
    expect(second.lines.find((line) => line.startsWith('error'))).toMatch(
      /^error ERR_COMPLETE_UNKNOWN .*may hold a final upload/,
    );
    // Nothing asked for again, nothing abandoned: the one final upload is whole, its parts kept.
    expect(finals(server)).toHaveLength(1);
    expect(partials(server)).toHaveLength(3);
    expect(sha256(server.bytes(finals(server)[0]![0]))).toBe(file.sha256);
    expect(server.log.filter((line) => line.includes('final;'))).toHaveLength(1);
    expect(server.log.filter((line) => line.startsWith('DELETE'))).toEqual([]);

    // The session was removed with that report: a third run is a new upload, by the caller's choice.
    const third = await runToEnd(config);
    expect(third.done).toEqual({ resumedBytes: 0, size: SIZE });
  });

  it('stopped once the final upload was saved: the next run finds it whole and returns it, sending nothing', async () => {
    const { server, file, store, options, error } = await stoppedAfterFinal('a.bin');
    // The upload was whole when the store failed: nothing is abandoned.
    expect(error).toMatchObject({ code: 'ERR_STORE_FAILED', abandoned: false });
    expect(server.log.filter((line) => line.startsWith('DELETE'))).toEqual([]);
    const [saved] = [...store.sessions.values()];
    const final = (saved!.state as { final?: string }).final;
    expect(final).toMatch(/^http:/);
    const requests = server.log.length;

    const result = await uploadParts(file.path, options);
    expect(result).toMatchObject({ url: final, size: SIZE, resumedBytes: SIZE });
    expect(server.log.slice(requests)).toEqual([`HEAD ${new URL(final!).pathname}`]);
    expect(finals(server)).toHaveLength(1);
    expect(sha256(server.bytes(final!))).toBe(file.sha256);
    expect(store.sessions.size).toBe(0);
  });

  it('a saved final upload the server no longer has: the partial uploads are joined again, once', async () => {
    const { server, file, options } = await stoppedAfterFinal('b.bin');
    const gone = finals(server)[0]![0];
    server.uploads.delete(gone);

    const result = await uploadParts(file.path, options);
    expect(finals(server)).toHaveLength(1);
    expect(result.url).not.toContain(gone);
    expect(sha256(server.bytes(result.url))).toBe(file.sha256);
    expect(result.resumedBytes).toBe(SIZE);
  });

  it('a saved final upload that is not whole is reported, and no other is asked for', async () => {
    const { server, file, options } = await stoppedAfterFinal('c.bin');
    const final = finals(server)[0]![1];
    final.offset = MiB;

    const error = (await uploadParts(file.path, { ...options, keepSession: true }).catch(
      (e: unknown) => e,
    )) as PartsError;
    expect(error.code).toBe('ERR_COMPLETE_FAILED');
    expect(error.message).toContain(`holds ${MiB} of ${SIZE} bytes`);
    expect(server.log.filter((line) => line.includes('final;'))).toHaveLength(1);
  });

  it('a final POST refused (a definite answer): the kept session asks again next time, once', async () => {
    const server = await startTusSpecServer();
    const file = randomFile(tempDir(), 'd.bin', SIZE);
    const options = { protocol: tus({ endpoint: server.endpoint }), partSize: MiB, concurrency: 3 };
    const store = crashingStore();
    store.crash = false;
    server.onFinal = () => 'refuse';
    const error = (await uploadParts(file.path, { ...options, store, keepSession: true }).catch(
      (e: unknown) => e,
    )) as PartsError;
    expect(error).toMatchObject({ code: 'ERR_COMPLETE_FAILED', status: 400 });
    expect(store.sessions.size).toBe(1);

    server.onFinal = () => 'answer';
    const result = await uploadParts(file.path, { ...options, store });
    expect(result.resumedBytes).toBe(SIZE);
    expect(sha256(server.bytes(result.url))).toBe(file.sha256);
    expect(server.log.filter((line) => line.includes('final;'))).toHaveLength(2);
    expect(finals(server)).toHaveLength(1);
  });
});
