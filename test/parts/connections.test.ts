import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tus, uploadParts } from '../../src/index.js';
import { tempDir } from '../helpers/files.js';
import { startH2cTusServer } from './fakes/tus-server.js';
import { MiB, randomFile, sha256 } from './helpers.js';

describe('uploadParts: http2 and maxRate go to every request', () => {
  it('http2: true speaks HTTP/2 to an h2c tus server, one connection for every request and piece', async () => {
    const directory = tempDir();
    const server = await startH2cTusServer(directory);
    const file = randomFile(tempDir(), 'a.bin', 2 * MiB + 1);
    const result = await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint }),
      partSize: MiB,
      store: false,
      http2: true,
      maxRate: 1024 ** 3,
    });
    expect(sha256(readFileSync(join(directory, result.url.split('/').pop()!)))).toBe(file.sha256);
    expect(server.sessions).toHaveLength(1);
  });

  it('without http2 the h2c server cannot be spoken to: the start fails, typed', async () => {
    const server = await startH2cTusServer(tempDir());
    const file = randomFile(tempDir(), 'b.bin', 10);
    const error = await uploadParts(file.path, {
      protocol: tus({ endpoint: server.endpoint }),
      store: false,
      retry: 0,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PartsError', code: 'ERR_START_FAILED' });
  });
});
