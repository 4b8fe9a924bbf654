import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { runKilled, runToEnd } from './child.js';
import { startGoogleFake, type GoogleFake } from './fakes/google.js';
import { KiB, MiB, randomFile } from './helpers.js';

const SIZE = 4 * MiB + 100 * KiB;
const isChunk = (method: string, range: string | undefined) =>
  method === 'PUT' && range !== undefined && !range.includes('*');

async function killThenResume(
  arm: (fake: GoogleFake, kill: () => void) => ((loaded: number, total: number) => boolean) | undefined,
) {
  const fake = await startGoogleFake();
  const dir = tempDir();
  const file = randomFile(dir, 'big.bin', SIZE);
  const config = {
    kind: 'google',
    start: fake.start,
    key: 'big.bin',
    path: file.path,
    store: join(dir, 'sessions'),
    partSize: MiB,
  };
  await runKilled(config, (kill) => arm(fake, kill));
  fake.fault = () => undefined;
  const receivedBefore = fake.received;
  const second = await runToEnd(config);
  expect(fake.log.filter((line) => line.startsWith('POST'))).toHaveLength(1);
  const [session] = [...fake.sessions.values()];
  expect(session!.done).toBe(true);
  expect(Buffer.concat(session!.data).equals(readFileSync(file.path))).toBe(true);
  return { resumedBytes: second.done!.resumedBytes, sentAgain: fake.received - receivedBefore };
}

describe('Google resumable sessions survive SIGKILL', () => {
  it('at 0%', async () => {
    const { resumedBytes } = await killThenResume((fake, kill) => {
      fake.fault = ({ method, range }) => {
        if (!isChunk(method, range)) return undefined;
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

  it('at 99%: the last piece is held', async () => {
    const { resumedBytes } = await killThenResume((fake) => {
      fake.fault = ({ method, range }) =>
        isChunk(method, range) && range!.endsWith(`-${SIZE - 1}/${SIZE}`) ? { hang: true } : undefined;
      return (loaded, total) => loaded >= total * 0.99;
    });
    expect(resumedBytes).toBe(4 * MiB);
  });

  it('between the last piece stored and its answer', async () => {
    const { resumedBytes, sentAgain } = await killThenResume((fake, kill) => {
      fake.fault = ({ method, range }) =>
        isChunk(method, range) && range!.endsWith(`-${SIZE - 1}/${SIZE}`) ? { mute: kill } : undefined;
      return undefined;
    });
    expect(resumedBytes).toBe(SIZE);
    expect(sentAgain).toBe(0);
  });
});
