import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { runKilled, runToEnd } from './child.js';
import { startS3Fake, type FaultInfo, type S3Fake } from './fakes/s3.js';
import { bytesOf, KiB, MiB, randomFile } from './helpers.js';

const SIZE = 6 * MiB + 300 * KiB;
const PART = MiB;
const PARTS = 7;

function config(fake: S3Fake, dir: string, path: string) {
  return {
    kind: 's3',
    backend: fake.origin,
    key: 'big.bin',
    path,
    store: join(dir, 'sessions'),
    partSize: PART,
    concurrency: 2,
  };
}

const isPart = (info: FaultInfo) => info.method === 'PUT' && info.partNumber !== undefined;
const isComplete = (info: FaultInfo) => info.method === 'POST' && info.query.has('uploadId');

/** Kills the first run where `when` says, then runs the same call again and checks the stored object. */
async function killThenResume(
  name: string,
  arm: (fake: S3Fake, kill: () => void) => ((loaded: number, total: number) => boolean) | undefined,
) {
  const fake = await startS3Fake({ minPartSize: 0 });
  const dir = tempDir();
  const file = randomFile(dir, 'big.bin', SIZE);
  await runKilled(config(fake, dir, file.path), (kill) => arm(fake, kill), `${name}: `);
  expect(fake.objects.size).toBe(0);
  fake.fault = () => undefined;
  const receivedBefore = fake.received;
  const second = await runToEnd(config(fake, dir, file.path));
  expect(fake.objects.get('big.bin')?.sha256).toBe(file.sha256);
  // One upload, resumed: no second start, nothing left behind.
  expect(fake.log.filter((line) => line.startsWith('POST big.bin?uploads'))).toHaveLength(1);
  expect(fake.uploads.size).toBe(0);
  return { second: second.done!, sentAgain: fake.received - receivedBefore };
}

describe('S3 sessions survive SIGKILL', () => {
  it('at 0%: the first part is in flight', async () => {
    const { second } = await killThenResume('0%', (fake, kill) => {
      fake.fault = (info) => {
        if (!isPart(info)) return undefined;
        setImmediate(kill);
        return { hang: true };
      };
      return undefined;
    });
    expect(second.resumedBytes).toBe(0);
  });

  it('at 50%', async () => {
    const { second, sentAgain } = await killThenResume('50%', () => (loaded, total) => loaded >= total / 2);
    expect(second.resumedBytes).toBeGreaterThan(0);
    expect(sentAgain).toBeLessThan(SIZE);
  });

  it('at 99%: the last part is sent but not answered', async () => {
    const { second, sentAgain } = await killThenResume('99%', (fake) => {
      fake.fault = (info) => (isPart(info) && info.partNumber === PARTS ? { hang: true } : undefined);
      return (loaded, total) => loaded >= total * 0.99;
    });
    expect(second.resumedBytes).toBeGreaterThanOrEqual(SIZE - 2 * PART);
    expect(sentAgain).toBeLessThanOrEqual(2 * PART);
  });

  it('between the last part and completion', async () => {
    const { second, sentAgain } = await killThenResume('complete', (fake, kill) => {
      fake.fault = (info) => {
        if (!isComplete(info)) return undefined;
        setImmediate(kill);
        return { hang: true };
      };
      return undefined;
    });
    expect(second.resumedBytes).toBe(SIZE);
    expect(sentAgain).toBe(0);
  });

  it('never resumes into a changed file: the old upload is aborted, the new content stored', async () => {
    const fake = await startS3Fake({ minPartSize: 0 });
    const dir = tempDir();
    const file = randomFile(dir, 'big.bin', SIZE);
    await runKilled(config(fake, dir, file.path), () => (loaded, total) => loaded >= total / 2);
    expect(fake.uploads.size).toBe(1);
    const changed = bytesOf(SIZE, 99);
    writeFileSync(file.path, changed.data);
    const second = await runToEnd(config(fake, dir, file.path));
    expect(second.done!.resumedBytes).toBe(0);
    expect(fake.objects.get('big.bin')?.sha256).toBe(changed.sha256);
    expect(fake.log.filter((line) => line.startsWith('POST big.bin?uploads'))).toHaveLength(2);
    expect(fake.log.filter((line) => line.startsWith('DELETE big.bin?uploadId'))).toHaveLength(1);
    expect(fake.uploads.size).toBe(0);
  });
});
