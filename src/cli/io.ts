import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { CliError } from './errors.js';

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Header lines as the bytes that go on the wire (values are byte strings: UTF-8 stays UTF-8). */
export function headerLines(headers: Iterable<readonly [string, string]>, prefix = ''): Buffer {
  return Buffer.from([...headers].map(([name, value]) => `${prefix}${name}: ${value}\n`).join(''), 'latin1');
}

/**
 * Where the answer (or, for a dry run, the request body) goes: stdout, or the -o file, which is
 * opened only when the first byte is written (as curl creates it), so nothing is created or
 * truncated for an answer that is not written (`--fail`).
 */
export class Output {
  #file: Writable | undefined;

  /**
   * `shownAs`: the name errors give the file, when `path` is a stand-in for it (a dry run's
   * temporary file); `fd`: the file, already open.
   */
  constructor(
    private readonly path: string | undefined,
    private readonly io: Io,
    private readonly file: { shownAs?: string; fd?: number } = {},
  ) {}

  /** True once the -o file has been opened (something was written, or is being). */
  get opened(): boolean {
    return this.#file !== undefined;
  }

  get name(): string {
    return this.path === undefined || this.path === '-' ? 'stdout' : (this.file.shownAs ?? this.path);
  }

  get stream(): Writable {
    if (this.path === undefined || this.path === '-') return this.io.stdout;
    if (this.#file === undefined) {
      this.#file = createWriteStream(this.path, this.file.fd === undefined ? {} : { fd: this.file.fd });
      this.#file.on('error', () => {}); // reported by the write that meets it
    }
    return this.#file;
  }

  /** Writes `bytes` and waits until they are taken. */
  async write(bytes: Uint8Array): Promise<void> {
    const stream = this.stream;
    // A failed write also emits 'error', and stdout has no listener of its own: a reader that
    // went away (`| head -c1`, EPIPE) would crash the process instead of being exit 23.
    const ignore = () => {};
    stream.on('error', ignore);
    try {
      await new Promise<void>((resolve, reject) =>
        stream.write(bytes, (error) => (error ? reject(this.#writeError(error)) : resolve())),
      );
    } finally {
      stream.off('error', ignore);
    }
  }

  /**
   * Copies `source` to the output. A failure of the source is rethrown as it came (the caller
   * knows what it was reading); a failure to write is a CliError('write'), exit 23.
   */
  async copy(source: AsyncIterable<Uint8Array>, onChunk: (size: number) => void = () => {}): Promise<void> {
    let sourceFailure: { error: unknown } | undefined;
    async function* read() {
      try {
        for await (const chunk of source) {
          onChunk(chunk.length);
          yield chunk;
        }
      } catch (error) {
        sourceFailure = { error };
        throw error;
      }
    }
    const stream = this.stream;
    try {
      await pipeline(read(), stream, { end: stream !== this.io.stdout });
    } catch (error) {
      throw sourceFailure === undefined ? this.#writeError(error) : sourceFailure.error;
    }
  }

  /** Ends the -o file (creating it if nothing was written, as curl does for an empty answer). */
  async close(): Promise<void> {
    if (this.path === undefined || this.path === '-') return;
    const file = this.stream;
    if (file.writableFinished) return;
    // finished() also settles for a file that failed before this call (a directory, no permission).
    file.end();
    await finished(file).catch((error: unknown) => {
      throw this.#writeError(error);
    });
  }

  #writeError(error: unknown): CliError {
    return new CliError('write', `cannot write ${this.name}: ${(error as Error).message}`, error);
  }
}
