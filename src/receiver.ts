import type { Dicer } from '@fastify/busboy';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** What the receiver saw of one part (or of a whole non-multipart body), exactly as it came. */
export interface ReceivedPart {
  /** The Content-Disposition `name`; '' when the part has none (a raw body, a multipart/mixed part). */
  name: string;
  /** The Content-Disposition `filename`, or undefined when there is none. */
  filename: string | undefined;
  /** The part's Content-Type header as sent (for a raw body, the request's), or null when there was none. */
  type: string | null;
  /** Size and SHA-256 of the bytes as they came, never decoded. */
  size: number;
  sha256: string;
}

/** The receiver's answer to one request. */
export interface ReceiptReport {
  method: string;
  path: string;
  /** The request's Content-Length header, or null when it had none. */
  contentLength: number | null;
  chunked: boolean;
  bytesReceived: number;
  /** True when a Content-Length was sent and equals the bytes received. */
  lengthMatches: boolean;
  parts: ReceivedPart[];
}

export interface ReceiverLimits {
  /** Largest request body accepted, in bytes (default 2 GiB); a larger one is answered 413. */
  maxBodyBytes?: number;
  /** Most parts accepted (default 10,000); more are answered 413. */
  maxParts?: number;
  /** Most header lines in one part (default 100); more are answered 413. */
  maxHeaderPairs?: number;
  /** How long the client may send nothing before the request is given up, answered 408 (default 30,000 ms). */
  idleTimeoutMs?: number;
}

const DEFAULT_LIMITS: Required<ReceiverLimits> = {
  maxBodyBytes: 2 * 1024 ** 3,
  maxParts: 10_000,
  maxHeaderPairs: 100,
  idleTimeoutMs: 30_000,
};

/**
 * Why receive() refused a request. `status` is the answer to give: 400 for a malformed body (or a
 * client that went away, when no answer can reach it), 408 for a client that stopped sending, 413
 * for a body over a limit.
 */
export class ReceiveError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 408 | 413,
  ) {
    super(message);
    this.name = 'ReceiveError';
  }
}

// Loaded with the first multipart request, so that importing this module costs nothing.
let dicer: Promise<typeof Dicer> | undefined;
const loadDicer = () => (dicer ??= import('@fastify/busboy').then((m) => m.Dicer));

interface Sink {
  /** False asks for a pause until the sink calls `req.resume()`. */
  write(chunk: Buffer): boolean;
  end(): void;
}

/**
 * Reads one upload: a multipart body (any multipart/* type) is split into its parts with
 * @fastify/busboy's multipart parser, any other body is taken as one raw part. Every part is
 * counted and hashed as it streams, never held whole.
 *
 * The promise always settles: it rejects with a {@link ReceiveError} on a limit, a malformed body,
 * a client that goes away or stops sending. The rest of the request is then drained; answer it with
 * `Connection: close` so that a client that keeps sending is cut off.
 */
export function receive(req: IncomingMessage, limits: ReceiverLimits = {}): Promise<ReceiptReport> {
  const maxBodyBytes = limits.maxBodyBytes ?? DEFAULT_LIMITS.maxBodyBytes;
  const maxParts = limits.maxParts ?? DEFAULT_LIMITS.maxParts;
  const maxHeaderPairs = limits.maxHeaderPairs ?? DEFAULT_LIMITS.maxHeaderPairs;
  const idleTimeoutMs = limits.idleTimeoutMs ?? DEFAULT_LIMITS.idleTimeoutMs;
  const declared = req.headers['content-length'];
  const contentLength = declared === undefined ? null : Number(declared);
  const type = req.headers['content-type'];
  const report: ReceiptReport = {
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    contentLength,
    chunked: /\bchunked\b/i.test(req.headers['transfer-encoding'] ?? ''),
    bytesReceived: 0,
    lengthMatches: false,
    parts: [],
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    let ended = false;
    const timer = setTimeout(
      () => settle(new ReceiveError(`the client sent nothing for ${idleTimeoutMs} ms`, 408)),
      idleTimeoutMs,
    );
    function settle(error?: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        req.resume();
        reject(error);
      } else {
        report.lengthMatches = contentLength !== null && contentLength === report.bytesReceived;
        resolve(report);
      }
    }
    // These listeners stay after settling, so that a late 'error' is never unhandled.
    req.on('error', (error) => settle(new ReceiveError(`the connection failed: ${error.message}`, 400)));
    req.on('close', () => {
      if (!ended) settle(new ReceiveError('the client closed the connection before the body ended', 400));
    });

    if (contentLength !== null && contentLength > maxBodyBytes) {
      settle(new ReceiveError(`the body of ${contentLength} bytes is over the limit of ${maxBodyBytes}`, 413));
      return;
    }
    const start = (sink: Sink) => {
      if (settled) return;
      req.on('data', (chunk: Buffer) => {
        if (settled) return;
        timer.refresh();
        report.bytesReceived += chunk.length;
        if (report.bytesReceived > maxBodyBytes)
          settle(new ReceiveError(`the body is over the limit of ${maxBodyBytes} bytes`, 413));
        else if (!sink.write(chunk)) req.pause();
      });
      req.on('end', () => {
        ended = true;
        if (!settled) sink.end();
      });
    };

    if (!/^multipart\//i.test(type ?? '')) {
      const part = addPart(report, '', undefined, type ?? null);
      start({
        write(chunk) {
          part.update(chunk);
          return true;
        },
        end() {
          part.end();
          settle();
        },
      });
      return;
    }
    const boundary = parameters(type!).get('boundary');
    if (!boundary) {
      settle(new ReceiveError(`the Content-Type ${type} has no boundary`, 400));
      return;
    }
    loadDicer().then(
      (Parser) => {
        // One pair over the limit, as the parser stops counting at its maximum.
        const parser = new Parser({ boundary, maxHeaderPairs: maxHeaderPairs + 1 });
        let parts = 0;
        let open = 0;
        let finished = false;
        const done = () => {
          if (ended && finished && open === 0) settle();
        };
        parser.on('part', (stream) => {
          stream.on('error', () => {}); // the parser reports the same failure itself
          if (++parts > maxParts) settle(new ReceiveError(`more than ${maxParts} parts`, 413));
          if (settled) return void stream.resume();
          open++;
          let part: ReturnType<typeof addPart> | undefined;
          stream.on('header', (header: Record<string, string[]>) => {
            if (Object.values(header).flat().length > maxHeaderPairs) {
              settle(new ReceiveError(`a part has more than ${maxHeaderPairs} header lines`, 413));
              return;
            }
            // The parser gives header bytes as latin1; names and filenames are sent as UTF-8.
            const value = (name: string) =>
              header[name] ? Buffer.from(header[name][0]!, 'latin1').toString('utf8') : undefined;
            const disposition = parameters(value('content-disposition') ?? '');
            part = addPart(
              report,
              disposition.get('name') ?? '',
              disposition.get('filename'),
              value('content-type') ?? null,
            );
          });
          stream.on('data', (chunk: Buffer) => part?.update(chunk));
          stream.on('end', () => {
            open--;
            if (!part) return settle(new ReceiveError('malformed multipart body: a part header does not end', 400));
            part.end();
            done();
          });
        });
        parser.on('error', (error) => settle(new ReceiveError(`malformed multipart body: ${error.message}`, 400)));
        parser.on('finish', () => {
          finished = true;
          done();
        });
        parser.on('drain', () => req.resume());
        start({
          write: (chunk) => parser.write(chunk),
          end() {
            parser.end();
            done();
          },
        });
      },
      (error: Error) => settle(error),
    );
  });
}

function addPart(report: ReceiptReport, name: string, filename: string | undefined, type: string | null) {
  const part: ReceivedPart = { name, filename, type, size: 0, sha256: '' };
  report.parts.push(part);
  const hash = createHash('sha256');
  return {
    update(chunk: Buffer) {
      part.size += chunk.length;
      hash.update(chunk);
    },
    end() {
      part.sha256 = hash.digest('hex');
    },
  };
}

/**
 * The `; key=value` parameters of a header value, keys lowercased. A quoted value runs to the next
 * quote: browsers and RFC 7578 senders escape `"` as %22 and a backslash is just a backslash.
 */
function parameters(value: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const [, key, quoted, bare] of value.matchAll(/;\s*([^\s;=]+)\s*=\s*(?:"([^"]*)"|([^\s;]*))/g)) {
    if (!found.has(key!.toLowerCase())) found.set(key!.toLowerCase(), quoted ?? bare!);
  }
  return found;
}

/** A one-table summary of a report, for people. */
export function formatReport(report: ReceiptReport): string {
  const rows = report.parts.map((p) => [p.name, p.filename ?? '', p.type ?? '', String(p.size), p.sha256]);
  const header = ['name', 'filename', 'type', 'size', 'sha256'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const length =
    report.contentLength === null
      ? `no Content-Length${report.chunked ? ' (chunked)' : ''}`
      : `Content-Length ${report.contentLength}, ${report.lengthMatches ? 'matches' : 'DOES NOT MATCH'} the ${report.bytesReceived} bytes received`;
  return (
    [
      `${report.method} ${report.path}: ${report.parts.length} part(s), ${length}`,
      line(header),
      ...rows.map(line),
    ].join('\n') + '\n'
  );
}

export interface ReceiverOptions extends ReceiverLimits {
  /** The default answer: JSON (default) or the text table. A request can ask for either. */
  format?: 'json' | 'text';
  /** Called with each report (after it is sent back). */
  onReport?: (report: ReceiptReport) => void;
  /** Called with each refused request (after the answer, when one could still be sent). */
  onError?: (error: Error, req: IncomingMessage) => void;
}

/**
 * An HTTP server that answers every request with what it received: JSON, or a
 * text table when asked (`Accept: text/plain` or `?format=text`; `?format=json`
 * or `Accept: application/json` for JSON when the default is text).
 */
export function createReceiver(options: ReceiverOptions = {}): Server {
  return createServer((req, res) => {
    receive(req, options).then(
      (report) => {
        send(res, report, wantsText(req, options.format) ? formatReport(report) : undefined, 200);
        options.onReport?.(report);
      },
      (error: Error) => {
        const status = error instanceof ReceiveError ? error.status : 500;
        send(
          res,
          { error: error.message },
          wantsText(req, options.format) ? `error: ${error.message}\n` : undefined,
          status,
        );
        options.onError?.(error, req);
      },
    );
  });
}

function wantsText(req: IncomingMessage, format: 'json' | 'text' = 'json'): boolean {
  const url = req.url ?? '';
  const accept = req.headers.accept ?? '';
  if (/[?&]format=text\b/.test(url) || /^text\/plain/i.test(accept)) return true;
  if (/[?&]format=json\b/.test(url) || /^application\/json/i.test(accept)) return false;
  return format === 'text';
}

function send(res: ServerResponse, json: unknown, text: string | undefined, status: number): void {
  if (res.headersSent || res.destroyed) return;
  const body = text ?? `${JSON.stringify(json, null, 2)}\n`;
  res.writeHead(status, {
    'content-type': text === undefined ? 'application/json' : 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(status >= 400 ? { connection: 'close' } : {}),
  });
  res.end(body);
}
