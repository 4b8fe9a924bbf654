import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { startServe } from '../helpers/cli.js';
import { cleanUpAfter } from '../helpers/cleanup.js';

/** A receiver running in a child process, on 127.0.0.1. */
export interface Target {
  port: number;
  pid: number;
  /** Everything the child wrote on stderr: one line per request. */
  log(): string;
  alive(): boolean;
}

/** createReceiver(options) from the built library, in a child process (test/faults/receiver-child.mjs). */
export async function startReceiverChild(options: object): Promise<Target> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'receiver-child.mjs'), JSON.stringify(options)]);
  let log = '';
  child.stderr.on('data', (c) => (log += c));
  cleanUpAfter(() => child.kill('SIGTERM'));
  const [first] = (await Promise.race([
    once(child.stdout, 'data'),
    once(child, 'exit').then(() => [`exited: ${log}`]),
  ])) as [Buffer | string];
  const port = Number(String(first).trim());
  if (!Number.isInteger(port)) throw new Error(`the receiver child did not start: ${String(first)}`);
  return { port, pid: child.pid!, log: () => log, alive: () => child.exitCode === null && child.signalCode === null };
}

/** `multipart-poster serve` (the built CLI) in a child process. */
export async function startServeChild(args: string[] = []): Promise<Target> {
  const serve = await startServe(args);
  return {
    port: Number(new URL(serve.url).port),
    pid: serve.child.pid!,
    log: serve.log,
    alive: () => serve.child.exitCode === null && serve.child.signalCode === null,
  };
}

/** How a hostile client ends: drops the connection (FIN or RST), or waits for the answer. */
export type Ending = 'close' | 'reset' | 'answer';

export interface Outcome {
  /** The status of the answer, or null when none came. */
  status: number | null;
  /** The raw answer: status line, headers and body. */
  response: Buffer;
}

/**
 * A client on a raw socket: writes `pieces` in order (each after the last one drained), then drops
 * the connection or waits until the server closes it. Whatever happens, it is over within `bound` ms.
 */
export async function exchange(
  port: number,
  pieces: Iterable<string | Buffer>,
  ending: Ending,
  bound = 15_000,
): Promise<Outcome> {
  const socket = net.connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', () => {}); // a server that answers early may reset the connection while we write
  const closed = once(socket, 'close');
  const timer = setTimeout(() => socket.destroy(), bound);
  try {
    await once(socket, 'connect');
    for (const piece of pieces) {
      if (socket.destroyed) break;
      if (!socket.write(piece)) await Promise.race([once(socket, 'drain'), closed]);
    }
    if (ending === 'close') socket.destroy();
    if (ending === 'reset' && !socket.destroyed) socket.resetAndDestroy();
    await closed;
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
  const response = Buffer.concat(received);
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(response.toString('latin1'))?.[1];
  return { status: status === undefined ? null : Number(status), response };
}

/** The body of a raw answer, parsed as JSON. */
export function answerJson(response: Buffer): unknown {
  const text = response.toString('utf8');
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
}

/** Resolves once the log has a line matching `pattern`, or rejects after `bound` ms. */
export async function waitForLog(target: Target, pattern: RegExp, bound = 10_000): Promise<void> {
  for (const deadline = Date.now() + bound; !pattern.test(target.log());) {
    if (Date.now() > deadline)
      throw new Error(`no log line matching ${pattern} within ${bound} ms; the log:\n${target.log()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The peak resident set size of a process, in bytes, from /proc (Linux only). */
export function peakRss(pid: number): number {
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kib === undefined) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

// Raw requests, written out as they go on the wire.

export const BOUNDARY = 'b0undary';

/** A request head; `length` is a Content-Length, or 'chunked'. */
export function head(path: string, type: string | null, length: number | 'chunked', extra = ''): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    (type === null ? '' : `Content-Type: ${type}\r\n`) +
    (length === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${length}\r\n`) +
    `${extra}\r\n`
  );
}

export const FORM = `multipart/form-data; boundary=${BOUNDARY}`;

/** A whole request with a Content-Length, asking the server to close the connection after answering. */
export function request(path: string, type: string | null, body: Buffer | string): Buffer {
  const bytes = Buffer.from(body);
  return Buffer.concat([Buffer.from(head(path, type, bytes.length, 'Connection: close\r\n')), bytes]);
}

/** One part: a delimiter line, the header lines given, a blank line and the data, then CRLF. */
export function part(headers: string[], data: Buffer | string, boundary = BOUNDARY): Buffer {
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`),
    Buffer.from(data),
    Buffer.from('\r\n'),
  ]);
}

export const field = (name: string, value: Buffer | string, ...headers: string[]) =>
  part([`Content-Disposition: form-data; name="${name}"`, ...headers], value);

export const close = (boundary = BOUNDARY) => `--${boundary}--\r\n`;

/** One chunk of a chunked body. */
export function chunk(data: Buffer | string): Buffer {
  const bytes = Buffer.from(data);
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
}
