import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Output, type Io } from '../../src/cli/io.js';
import { tempDir } from '../helpers/files.js';

const dir = tempDir();

function fakeIo(): Io & { written: () => string } {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  return {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: new PassThrough() as unknown as NodeJS.WriteStream,
    written: () => Buffer.concat(chunks).toString(),
  };
}

async function* chunks(...pieces: string[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield Buffer.from(piece);
}

async function* failing(error: Error): AsyncGenerator<Uint8Array> {
  yield Buffer.from('some');
  throw error;
}

describe('Output: where the answer or the dry-run body goes', () => {
  it('-o FILE is created only when something is written (or at close)', async () => {
    const path = join(dir, 'lazy.txt');
    const output = new Output(path, fakeIo());
    expect(existsSync(path)).toBe(false);
    expect(output.opened).toBe(false);
    await output.copy(chunks('a', 'b'));
    await output.close();
    expect(readFileSync(path, 'utf8')).toBe('ab');
  });

  it('stdout is never ended (-o - is stdout too)', async () => {
    const io = fakeIo();
    for (const path of [undefined, '-']) {
      const output = new Output(path, io);
      await output.write(Buffer.from('x'));
      await output.copy(chunks('y'));
      await output.close();
    }
    expect(io.written()).toBe('xyxy');
    expect(io.stdout.writableEnded).toBe(false);
  });

  it('a failure of the source comes out as it is, even with a code that starts with E (not a write error)', async () => {
    const error = Object.assign(new Error('the upload took longer than 500 ms'), { code: 'ERR_TIMEOUT' });
    await expect(new Output(undefined, fakeIo()).copy(failing(error))).rejects.toBe(error);
    const reset = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    await expect(new Output(join(dir, 'partial.txt'), fakeIo()).copy(failing(reset))).rejects.toBe(reset);
  });

  it('a failure to write is a write error (exit 23) naming the output', async () => {
    const path = join(dir, 'no-such-folder', 'out.txt');
    await expect(new Output(path, fakeIo()).copy(chunks('a'))).rejects.toMatchObject({
      kind: 'write',
      message: expect.stringMatching(/^cannot write .*out\.txt: ENOENT/),
    });
    await expect(new Output(path, fakeIo()).close()).rejects.toMatchObject({ kind: 'write' });
    await expect(new Output(dir, fakeIo()).write(Buffer.from('x'))).rejects.toMatchObject({
      kind: 'write',
      message: expect.stringMatching(/EISDIR/),
    });
  });

  it('a stdout whose reader went away (EPIPE) is a write error (exit 23), not an unhandled error event', async () => {
    const stdout = new Writable({
      write: (_chunk, _encoding, callback) =>
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' })),
    });
    const io = { stdout: stdout as unknown as NodeJS.WriteStream, stderr: fakeIo().stderr };
    await expect(new Output(undefined, io).write(Buffer.from('x'))).rejects.toMatchObject({
      kind: 'write',
      message: 'cannot write stdout: write EPIPE',
    });
    // The stream's own 'error' event comes on a later tick: it must find a listener too.
    await new Promise((resolve) => setImmediate(resolve));
    expect(stdout.destroyed).toBe(true);
  });
});
