import { statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { runKilled, runToEnd } from './child.js';
import { startTusServer, type TusServer } from './fakes/tus-server.js';
import { KiB, MiB, randomFile } from './helpers.js';

const SIZE = 5 * MiB + 100 * KiB;

/** Kills the first run where the arming says, then runs the same call again and checks the stored upload. */
async function killThenResume(
  arm: (server: TusServer, kill: () => void) => ((loaded: number, total: number) => boolean) | undefined,
  between?: (server: TusServer, url: string) => void,
) {
  const server = await startTusServer(tempDir());
  const dir = tempDir();
  const file = randomFile(dir, 'big.bin', SIZE);
  const config = {
    kind: 'tus',
    endpoint: server.endpoint,
    key: 'big.bin',
    path: file.path,
    store: join(dir, 'sessions'),
    partSize: MiB,
    concurrency: 4,
  };
  await runKilled(config, (kill) => arm(server, kill));
  const url = server.log.find((line) => line.startsWith('PATCH'))?.slice(6);
  server.fault = () => undefined;
  await server.settle();
  if (url !== undefined) between?.(server, `${server.endpoint.replace('/files', '')}${url}`);
  const receivedBefore = server.received;
  const second = await runToEnd(config);
  expect(server.log.filter((line) => line.startsWith('POST'))).toHaveLength(1);
  const stored = server.log.find((line) => line.startsWith('PATCH'))!.slice(6);
  expect(server.sha256(`${server.endpoint.replace('/files', '')}${stored}`)).toBe(file.sha256);
  return { resumedBytes: second.done!.resumedBytes, sentAgain: server.received - receivedBefore };
}

describe('tus sessions survive SIGKILL (against @tus/server)', () => {
  it('at 0%', async () => {
    const { resumedBytes } = await killThenResume((server, kill) => {
      server.fault = (req) => {
        if (req.method !== 'PATCH') return undefined;
        setImmediate(kill);
        return { hang: true };
      };
      return undefined;
    });
    expect(resumedBytes).toBe(0);
  });

  it('at 50%', async () => {
    const { resumedBytes, sentAgain } = await killThenResume(() => (loaded, total) => loaded >= total / 2);
    expect(resumedBytes).toBeGreaterThan(0);
    expect(sentAgain).toBeLessThan(SIZE);
  });

  it('at 99%: the last piece is held by the server', async () => {
    const { resumedBytes } = await killThenResume((server) => {
      let patches = 0;
      server.fault = (req) => (req.method === 'PATCH' && ++patches === 6 ? { hang: true } : undefined);
      return (loaded, total) => loaded >= total * 0.99;
    });
    expect(resumedBytes).toBe(5 * MiB);
  });

  it('between the last piece stored and its answer', async () => {
    const { resumedBytes, sentAgain } = await killThenResume((server, kill) => {
      let patches = 0;
      server.fault = (req) => (req.method === 'PATCH' && ++patches === 6 ? { mute: kill } : undefined);
      return undefined;
    });
    expect(resumedBytes).toBe(SIZE);
    expect(sentAgain).toBe(0);
  });

  it('a server that lost stored bytes: the next run sends from the offset it reports', async () => {
    let lostTo = 0;
    const { resumedBytes } = await killThenResume(
      () => (loaded, total) => loaded >= total / 2,
      (server, url) => {
        lostTo = statSync(server.fileOf(url)).size - MiB;
        truncateSync(server.fileOf(url), lostTo);
      },
    );
    expect(resumedBytes).toBe(lostTo);
  });
});
