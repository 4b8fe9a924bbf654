import { DecodeError } from './errors.js';
import { DEFAULT_LIMITS, type Limits } from './options.js';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Statuses whose Response has no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** Reads lines (CRLF or LF) from a buffer held whole. */
class Lines {
  pos = 0;
  constructor(readonly buffer: Buffer) {}

  next(): string | undefined {
    const lf = this.buffer.indexOf(0x0a, this.pos);
    if (lf === -1) return undefined;
    const text = this.buffer.toString('latin1', this.pos, lf > this.pos && this.buffer[lf - 1] === 0x0d ? lf - 1 : lf);
    this.pos = lf + 1;
    return text;
  }
}

/** What bounds an inner response's head: the limits of a part's head. */
export type HeadLimits = Pick<Limits, 'maxHeaderBytes' | 'maxHeaderPairs'>;

type Fail = (what: string, cause?: unknown) => DecodeError;

/**
 * An HTTP/1.x response message held whole (an `application/http` part of a batch answer): its
 * status line, header lines (CRLF or LF) and body; a Content-Length in it trims the body (some
 * producers leave a line end before the next delimiter). ERR_MALFORMED_PART when it is not one.
 *
 * Its head is bounded like a part's: lines are looked for in its first `maxHeaderBytes` only
 * (ERR_HEADER_TOO_LARGE past them), and at most `maxHeaderPairs` header lines are taken
 * (ERR_TOO_MANY_HEADERS), so that a response of millions of short lines under maxResponseBytes
 * cannot hold the event loop, nor the heap, while a Headers of them is built.
 */
export function parseHttpResponse(bytes: Uint8Array, where: string, limits: HeadLimits = DEFAULT_LIMITS): Response {
  const whole = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lines = new Lines(whole.subarray(0, limits.maxHeaderBytes));
  const malformed: Fail = (what, cause) =>
    new DecodeError('ERR_MALFORMED_PART', `${where}: ${what}`, cause === undefined ? {} : { cause });
  const unended: Fail = (what) =>
    whole.length > limits.maxHeaderBytes
      ? new DecodeError('ERR_HEADER_TOO_LARGE', `${where}: its head is larger than ${limits.maxHeaderBytes} bytes`)
      : malformed(what);
  // Blank lines before the status line are tolerated, as HTTP/1.1 servers tolerate them before a request line.
  let status = lines.next();
  while (status === '') status = lines.next();
  const match = status === undefined ? null : /^HTTP\/\d(?:\.\d)? (\d{3})(?: (.*))?$/.exec(status);
  if (!match) {
    const first = status ?? lines.buffer.toString('latin1', 0, 60);
    const what = `not an HTTP response: its first line is ${JSON.stringify(first.slice(0, 60))}`;
    throw status === undefined && /^HTTP\/\d/.test(first) ? unended(what) : malformed(what);
  }
  const code = Number(match[1]);
  if (code < 200 || code > 599) throw malformed(`status ${code} cannot be a Response (200 to 599 only)`);
  const tooMany = () =>
    new DecodeError('ERR_TOO_MANY_HEADERS', `${where}: its head has more than ${limits.maxHeaderPairs} header lines`);
  const headers = readHeaders(lines, limits.maxHeaderPairs, { malformed, unended, tooMany });
  let body = whole.subarray(lines.pos);
  const length = headers.get('content-length');
  if (length !== null) {
    if (!/^\d+$/.test(length) || Number(length) > body.length) {
      throw malformed(`its Content-Length ${length} does not match the ${body.length} bytes it holds`);
    }
    body = body.subarray(0, Number(length));
  }
  const content = NULL_BODY.has(code) ? null : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  try {
    return new Response(content, { status: code, statusText: match[2] ?? '', headers });
  } catch (cause) {
    throw malformed(`the Response constructor refuses it: ${(cause as Error).message}`, cause);
  }
}

function readHeaders(
  lines: Lines,
  maxPairs: number,
  { malformed, unended, tooMany }: { malformed: Fail; unended: Fail; tooMany: () => DecodeError },
): Headers {
  const headers = new Headers();
  for (let pairs = 0; ; pairs++) {
    const header = lines.next();
    if (header === undefined) throw unended('its header does not end with an empty line');
    if (header === '') return headers;
    if (pairs === maxPairs) throw tooMany();
    const colon = header.indexOf(':');
    const name = header.slice(0, colon);
    if (colon <= 0 || !HEADER_NAME.test(name) || /[\0\r]/.test(header)) {
      throw malformed(`a header line is not "Name: value": ${JSON.stringify(header.slice(0, 60))}`);
    }
    try {
      headers.append(name, header.slice(colon + 1).trim());
    } catch (cause) {
      throw malformed(`this runtime's Headers refuses the header ${JSON.stringify(name)}`, cause);
    }
  }
}
