import { createHash, type Hash } from 'node:crypto';
import { visible } from '../common/visible.js';

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
  /** Present (true) when the name, filename or type was longer than REPORT_LIMITS.chars and is cut short here. */
  truncated?: true;
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
  /** Every part received; `parts` lists the first REPORT_LIMITS.parts of them. */
  partCount: number;
  parts: ReceivedPart[];
}

/** What a report keeps, so that its size is bounded whatever the request: parts listed, and characters of each name, filename and type. */
export const REPORT_LIMITS = Object.freeze({ parts: 1000, chars: 256, path: 2048 });

export interface PartRecorder {
  update(chunk: Buffer): void;
  end(): void;
}

function cut(text: string, chars: number): [string, boolean] {
  if (text.length <= chars) return [text, false];
  // Never half a surrogate pair.
  const end = /[\ud800-\udbff]/.test(text[chars - 1]!) ? chars - 1 : chars;
  return [text.slice(0, end), true];
}

export function newReport(method: string, path: string, contentLength: number | null, chunked: boolean): ReceiptReport {
  return {
    method,
    path: cut(path, REPORT_LIMITS.path)[0],
    contentLength,
    chunked,
    bytesReceived: 0,
    lengthMatches: false,
    partCount: 0,
    parts: [],
  };
}

/** Adds a part to the report: listed and hashed while the list has room, only counted after. */
export function addPart(
  report: ReceiptReport,
  name: string,
  filename: string | undefined,
  type: string | null,
): PartRecorder {
  report.partCount++;
  if (report.parts.length >= REPORT_LIMITS.parts) return { update: () => {}, end: () => {} };
  const [keptName, cutName] = cut(name, REPORT_LIMITS.chars);
  const [keptFile, cutFile] = filename === undefined ? [undefined, false] : cut(filename, REPORT_LIMITS.chars);
  const [keptType, cutType] = type === null ? [null, false] : cut(type, REPORT_LIMITS.chars);
  const part: ReceivedPart = { name: keptName, filename: keptFile, type: keptType, size: 0, sha256: '' };
  if (cutName || cutFile || cutType) part.truncated = true;
  report.parts.push(part);
  const hash: Hash = createHash('sha256');
  return {
    update(chunk) {
      part.size += chunk.length;
      hash.update(chunk);
    },
    end() {
      part.sha256 = hash.digest('hex');
    },
  };
}

/** A one-table summary of a report, for people; as bounded as the report; control characters shown escaped, so that it stays a table on a terminal. */
export function formatReport(report: ReceiptReport): string {
  const rows = report.parts.map((p) => [p.name, p.filename ?? '', p.type ?? '', String(p.size), p.sha256].map(visible));
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
  const count = report.partCount ?? report.parts.length;
  const omitted = count > report.parts.length ? [`(${count - report.parts.length} more part(s) not listed)`] : [];
  return (
    [
      `${report.method} ${visible(report.path)}: ${count} part(s), ${length}`,
      line(header),
      ...rows.map(line),
      ...omitted,
    ].join('\n') + '\n'
  );
}
