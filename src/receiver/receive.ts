import type { IncomingMessage } from 'node:http';
import { decodeChunks, type MultipartDecoder } from '../decoder/decode.js';
import { DEFAULT_LIMITS as DECODER_DEFAULTS } from '../decoder/options.js';
import { DecodeError } from '../decoder/errors.js';
import { parseMediaType } from '../common/media-type.js';
import { textOfBytes } from '../decoder/params.js';
import { chunkSource, type ChunkSource } from '../decoder/source.js';
import { ReceiveError, type ReceiveErrorCode } from './errors.js';
import { checkLimits, type ReceiverLimits } from './limits.js';
import { addPart, newReport, type ReceiptReport } from './report.js';
import { messageOf } from '../common/messages.js';

/**
 * Reads one upload: a multipart body (any multipart/* type) is split into its parts by the
 * library's decoder, any other body is taken as one raw part. Every part is counted and hashed
 * as it streams, never held whole.
 *
 * The promise always settles: it rejects with a {@link ReceiveError} on an invalid limit, a limit
 * reached, a malformed body, a client that goes away or stops sending. The rest of the request is
 * then drained; answer it with `Connection: close` so that a client that keeps sending is cut off.
 */
export function receive(req: IncomingMessage, limits?: ReceiverLimits): Promise<ReceiptReport> {
  let checked: Required<ReceiverLimits>;
  try {
    checked = checkLimits(limits);
  } catch (error) {
    req.resume();
    return Promise.reject(error);
  }
  return new Reception(req, checked).promise;
}

class Reception {
  readonly promise: Promise<ReceiptReport>;
  private readonly report: ReceiptReport;
  private readonly source: ChunkSource;
  private readonly timer: NodeJS.Timeout;
  private decoder: MultipartDecoder | undefined;
  private settled = false;
  private resolve!: (report: ReceiptReport) => void;
  private reject!: (error: ReceiveError) => void;

  constructor(
    private readonly req: IncomingMessage,
    private readonly limits: Required<ReceiverLimits>,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    const declared = req.headers['content-length'];
    const contentLength = declared === undefined ? null : Number(declared);
    this.report = newReport(
      req.method ?? 'GET',
      req.url ?? '/',
      contentLength,
      /\bchunked\b/i.test(req.headers['transfer-encoding'] ?? ''),
    );
    this.source = chunkSource(req);
    this.timer = setTimeout(
      () => this.refuse('ERR_IDLE_TIMEOUT', `the client sent nothing for ${limits.idleTimeoutMs} ms`),
      limits.idleTimeoutMs,
    );
    // These listeners stay after settling, so that a late 'error' is never unhandled.
    req.on('error', (error) => this.connectionFailed(error));
    req.on('close', () => {
      if (req.complete) return;
      if (!this.refuseIfTimedOut())
        this.refuse('ERR_CLIENT_GONE', 'the client closed the connection before the body ended');
    });
    if (contentLength !== null && contentLength > limits.maxBodyBytes) {
      this.refuse(
        'ERR_BODY_TOO_LARGE',
        `the body of ${contentLength} bytes is over the limit of ${limits.maxBodyBytes}`,
      );
      return;
    }
    this.run().then(
      () => this.succeed(),
      (error: unknown) => this.fail(error),
    );
  }

  /** The request's bytes, counted, each one resetting the idle timer; closing it leaves the request to settle(). */
  private counted(): ChunkSource {
    return {
      read: async () => {
        const chunk = await this.source.read();
        if (chunk === null || this.settled) return null;
        this.timer.refresh();
        this.report.bytesReceived += chunk.length;
        if (this.report.bytesReceived > this.limits.maxBodyBytes) {
          throw new ReceiveError(
            'ERR_BODY_TOO_LARGE',
            `the body is over the limit of ${this.limits.maxBodyBytes} bytes`,
          );
        }
        return chunk;
      },
      close: async () => {},
    };
  }

  private async run(): Promise<void> {
    const source = this.counted();
    const type = this.req.headers['content-type'];
    if (type === undefined || !/^multipart\//i.test(type)) {
      const part = addPart(this.report, '', undefined, type ?? null);
      for (let chunk = await source.read(); chunk !== null; chunk = await source.read()) part.update(chunk);
      return part.end();
    }
    const { maxParts, maxHeaderPairs, maxHeaderBytes } = this.limits;
    this.decoder = decodeChunks(source, type, { ...DECODER_DEFAULTS, maxParts, maxHeaderPairs, maxHeaderBytes });
    for await (const part of this.decoder) {
      const disposition = part.rawHeaders.find(([name]) => name.toLowerCase() === 'content-disposition')?.[1];
      const params =
        disposition === undefined ? new Map<string, string>() : parseMediaType(disposition, 'whatwg').parameters;
      const name = params.get('name');
      const filename = params.get('filename');
      const recorder = addPart(
        this.report,
        name === undefined ? '' : textOfBytes(name),
        filename === undefined ? undefined : textOfBytes(filename),
        part.contentType ?? null,
      );
      for await (const chunk of part) recorder.update(chunk);
      recorder.end();
    }
    // The epilogue past what the decoder reads is still counted.
    while ((await source.read()) !== null);
  }

  private succeed(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    const { report } = this;
    report.lengthMatches = report.contentLength !== null && report.contentLength === report.bytesReceived;
    this.resolve(report);
  }

  private fail(error: unknown): void {
    const cause = error instanceof DecodeError && error.code === 'ERR_SOURCE_FAILED' ? (error.cause ?? error) : error;
    if (cause instanceof ReceiveError) return this.settle(cause);
    if (!(cause instanceof DecodeError)) return this.connectionFailed(cause);
    const limits = this.limits;
    switch (cause.code) {
      case 'ERR_TOO_MANY_PARTS':
        return this.refuse('ERR_TOO_MANY_PARTS', `more than ${limits.maxParts} parts`, cause);
      case 'ERR_TOO_MANY_HEADERS':
        return this.refuse('ERR_TOO_MANY_HEADERS', `a part has more than ${limits.maxHeaderPairs} header lines`, cause);
      case 'ERR_HEADER_TOO_LARGE':
        return this.refuse(
          'ERR_HEADER_TOO_LARGE',
          `a part's header is over the limit of ${limits.maxHeaderBytes} bytes`,
          cause,
        );
      case 'ERR_INVALID_CONTENT_TYPE':
      case 'ERR_INVALID_BOUNDARY':
        return this.refuse('ERR_INVALID_CONTENT_TYPE', cause.message, cause);
      default:
        return this.refuse('ERR_MALFORMED_BODY', `malformed multipart body: ${cause.message}`, cause);
    }
  }

  /**
   * The request failed under us. Node's HTTP parser fails a request it cannot read on (bad chunked
   * framing) with the same 'aborted' error as a client that went away, and answers it 400 itself:
   * the socket's own error tells them apart, an llhttp code (HPE_*). HPE_INVALID_EOF_STATE is the
   * client closing mid-body, gone rather than malformed.
   */
  private connectionFailed(error: unknown): void {
    if (this.refuseIfTimedOut(error)) return;
    const parser = parserError(this.req);
    if (parser !== undefined)
      return this.refuse('ERR_MALFORMED_BODY', `malformed request: ${messageOf(parser)} (${parser.code})`, parser);
    this.refuse('ERR_CLIENT_GONE', `the connection failed: ${messageOf(error)}`, error);
  }

  /**
   * Node's server ends a request that outlasts its `requestTimeout` (5 minutes by default) itself: it
   * answers 408 and destroys the socket with ERR_HTTP_REQUEST_TIMEOUT, which the request sees as the
   * client going away. True when that is what happened, refused as such.
   */
  private refuseIfTimedOut(cause?: unknown): boolean {
    if (socketErrorCode(this.req) !== 'ERR_HTTP_REQUEST_TIMEOUT') return false;
    this.refuse('ERR_REQUEST_TIMEOUT', "the request outlasted the server's requestTimeout", cause);
    return true;
  }

  private refuse(code: ReceiveErrorCode, message: string, cause?: unknown): void {
    this.settle(new ReceiveError(code, message, cause === undefined ? {} : { cause }));
  }

  private settle(error: ReceiveError): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    // The decoder's pending read ends once the source is closed; the request's rest is drained.
    void this.decoder?.return();
    void this.source.close();
    this.reject(error);
  }
}

/** The HTTP parser's error that ended the request's connection, if that is what ended it. */
function parserError(req: IncomingMessage): (Error & { code: string }) | undefined {
  const code = socketErrorCode(req);
  if (code === undefined || !code.startsWith('HPE_') || code === 'HPE_INVALID_EOF_STATE') return undefined;
  return req.socket.errored as Error & { code: string };
}

/** The code of the error the request's socket was destroyed with, if any. */
function socketErrorCode(req: IncomingMessage): string | undefined {
  const errored: unknown = req.socket?.errored;
  if (!(errored instanceof Error)) return undefined;
  const { code } = errored as { code?: unknown };
  return typeof code === 'string' ? code : undefined;
}
