import { createWriteStream, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { multipartEncode, rawBody, type EncodedBody } from '../encoder.js';
import { upload, type UploadOptions } from '../http/upload.js';
import { CliError, EXIT } from './errors.js';
import { toParams } from './form-args.js';
import type { SendOptions } from './options.js';
import { createProgress, type ProgressDisplay } from './progress.js';

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

async function encode(options: SendOptions): Promise<EncodedBody> {
  if (options.dataBinary !== undefined) return rawBody(options.dataBinary);
  return multipartEncode(await toParams(options.form), options.boundary === undefined ? {} : { boundary: options.boundary });
}

/** Where the response (or, for a dry run, the request) body goes. */
function destination(options: SendOptions, io: Io): Writable {
  if (options.output === undefined || options.output === '-') return io.stdout;
  const file = createWriteStream(options.output);
  file.on('error', () => {}); // reported by pipeline
  return file;
}

async function writeTo(target: Writable, source: AsyncIterable<Uint8Array>, options: SendOptions, io: Io): Promise<void> {
  try {
    await pipeline(source, target, { end: target !== io.stdout });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined && code.startsWith('E') && code !== 'ECONNRESET') {
      throw new CliError('write', `cannot write ${options.output ?? 'stdout'}: ${(error as Error).message}`, error);
    }
    throw error;
  }
}

function progressFor(options: SendOptions, io: Io): ProgressDisplay | undefined {
  const wanted = options.progress ?? io.stderr.isTTY === true;
  if (!wanted) return undefined;
  return createProgress({ stream: io.stderr, style: io.stderr.isTTY ? 'bar' : 'lines' });
}

/** The upload command: returns the exit code. */
export async function send(options: SendOptions, io: Io): Promise<number> {
  const encoded = await encode(options);
  if (options.dryRun) {
    for (const [name, value] of Object.entries(encoded.headers)) io.stderr.write(`${name}: ${value}\n`);
    await writeTo(destination(options, io), encoded.body, options, io);
    return EXIT.ok;
  }

  const progress = progressFor(options, io);
  const tls: UploadOptions['tls'] = {
    ...(options.insecure ? { rejectUnauthorized: false } : {}),
    ...(options.cacert === undefined ? {} : { ca: readCa(options.cacert) }),
  };
  if (options.verbose) {
    io.stderr.write(`> ${options.method ?? 'POST'} ${options.url}\n`);
    for (const [name, value] of [...Object.entries(encoded.headers), ...options.headers]) io.stderr.write(`> ${name}: ${value}\n`);
  }
  let response: Response;
  try {
    response = await upload(options.url!, encoded, {
      ...(options.method === undefined ? {} : { method: options.method }),
      headers: options.headers,
      maxRedirects: options.location ? options.maxRedirects : 0,
      ...(options.expectContinue === undefined ? {} : { expectContinue: options.expectContinue }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
      tls,
      ...(progress === undefined ? {} : { onUploadProgress: (loaded: number, total: number | undefined) => progress.update(loaded, total) }),
    });
  } finally {
    progress?.finish();
  }

  const target = destination(options, io);
  if (options.include) {
    const head = [`HTTP/1.1 ${response.status} ${response.statusText}`, ...[...response.headers].map(([name, value]) => `${name}: ${value}`)];
    io.stdout.write(`${head.join('\r\n')}\r\n\r\n`);
  }
  if (response.body) await writeTo(target, response.body as unknown as AsyncIterable<Uint8Array>, options, io);
  else if (target !== io.stdout) target.end();
  if (options.fail && response.status >= 400) {
    io.stderr.write(`multipart-poster: the server answered ${response.status} ${response.statusText}\n`);
    return EXIT.httpError;
  }
  return EXIT.ok;
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new CliError('read', `cannot read --cacert ${JSON.stringify(path)}: ${(cause as Error).message}`, cause);
  }
}
