import busboy from 'busboy';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** What the receiver saw of one part (or of a whole non-multipart body). */
export interface ReceivedPart {
  name: string;
  filename: string | undefined;
  type: string;
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
  /** Largest request body accepted (default 2 GiB); a larger one is answered 413. */
  maxBodyBytes?: number;
  /** Most parts accepted (default 10,000). */
  maxParts?: number;
}

const DEFAULT_LIMITS: Required<ReceiverLimits> = { maxBodyBytes: 2 * 1024 ** 3, maxParts: 10_000 };

class LimitError extends Error {}

/**
 * Reads one upload: a multipart body is parsed with busboy, any other body is
 * taken as one raw part. Every part is hashed as it streams, never held whole.
 */
export function receive(req: IncomingMessage, limits: ReceiverLimits = {}): Promise<ReceiptReport> {
  const { maxBodyBytes, maxParts } = { ...DEFAULT_LIMITS, ...limits };
  const declared = req.headers['content-length'];
  const contentLength = declared === undefined ? null : Number(declared);
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
    if (contentLength !== null && contentLength > maxBodyBytes) {
      reject(new LimitError(`the body of ${contentLength} bytes is over the limit of ${maxBodyBytes}`));
      return;
    }
    const pending: Promise<void>[] = [];
    const hashPart = (part: Omit<ReceivedPart, 'size' | 'sha256'>, stream: NodeJS.ReadableStream) => {
      const entry: ReceivedPart = { ...part, size: 0, sha256: '' };
      report.parts.push(entry);
      const hash = createHash('sha256');
      pending.push(
        new Promise<void>((done, fail) => {
          stream.on('data', (chunk: Buffer) => {
            entry.size += chunk.length;
            hash.update(chunk);
          });
          stream.on('end', () => {
            entry.sha256 = hash.digest('hex');
            done();
          });
          stream.on('error', fail);
        }),
      );
    };
    req.on('data', (chunk: Buffer) => {
      report.bytesReceived += chunk.length;
      if (report.bytesReceived > maxBodyBytes) req.destroy(new LimitError(`the body is over the limit of ${maxBodyBytes} bytes`));
    });
    req.on('error', reject);
    const finish = () =>
      Promise.all(pending).then(() => {
        report.lengthMatches = contentLength !== null && contentLength === report.bytesReceived;
        resolve(report);
      }, reject);

    const type = req.headers['content-type'] ?? '';
    if (!/^multipart\/form-data/i.test(type)) {
      hashPart({ name: '', filename: undefined, type: type || 'application/octet-stream' }, req);
      req.on('end', finish);
      return;
    }
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        preservePath: true,
        defParamCharset: 'utf8',
        limits: { parts: maxParts, fieldSize: maxBodyBytes, fileSize: maxBodyBytes, headerPairs: 100 },
      });
    } catch (error) {
      reject(error);
      return;
    }
    parser.on('field', (name, value, info) => {
      hashPart({ name, filename: undefined, type: info.mimeType }, Readable.from([Buffer.from(value, 'utf8')]));
    });
    parser.on('file', (name, stream, info) => hashPart({ name, filename: info.filename, type: info.mimeType }, stream));
    parser.on('partsLimit', () => req.destroy(new LimitError(`more than ${maxParts} parts`)));
    parser.on('error', reject);
    parser.on('close', finish);
    req.pipe(parser);
  });
}

/** A one-table summary of a report, for people. */
export function formatReport(report: ReceiptReport): string {
  const rows = report.parts.map((p) => [p.name, p.filename ?? '', p.type, String(p.size), p.sha256]);
  const header = ['name', 'filename', 'type', 'size', 'sha256'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const length =
    report.contentLength === null
      ? `no Content-Length${report.chunked ? ' (chunked)' : ''}`
      : `Content-Length ${report.contentLength}, ${report.lengthMatches ? 'matches' : 'DOES NOT MATCH'} the ${report.bytesReceived} bytes received`;
  return [`${report.method} ${report.path}: ${report.parts.length} part(s), ${length}`, line(header), ...rows.map(line)].join('\n') + '\n';
}

export interface ReceiverOptions extends ReceiverLimits {
  /** The default answer: JSON (default) or the text table. A request can ask for either. */
  format?: 'json' | 'text';
  /** Called with each report (after it is sent back). */
  onReport?: (report: ReceiptReport) => void;
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
      (error: unknown) => {
        const status = error instanceof LimitError ? 413 : 400;
        const message = error instanceof Error ? error.message : String(error);
        send(res, { error: message }, wantsText(req, options.format) ? `error: ${message}\n` : undefined, status);
        req.resume();
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
  if (res.headersSent) return;
  const body = text ?? `${JSON.stringify(json, null, 2)}\n`;
  res.writeHead(status, {
    'content-type': text === undefined ? 'application/json' : 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...(status >= 400 ? { connection: 'close' } : {}),
  });
  res.end(body);
}
