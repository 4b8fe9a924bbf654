import { DecodeError } from './errors.js';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Statuses whose Response has no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * An HTTP/1.x response message held whole (an `application/http` part of a batch answer): its
 * status line, header lines (CRLF or LF) and body; a Content-Length in it trims the body (some
 * producers leave a line end before the next delimiter). ERR_MALFORMED_PART when it is not one.
 */
export function parseHttpResponse(bytes: Uint8Array, where: string): Response {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const malformed = (what: string) => new DecodeError('ERR_MALFORMED_PART', `${where}: ${what}`);
  let pos = 0;
  const line = (): string | undefined => {
    const lf = buffer.indexOf(0x0a, pos);
    if (lf === -1) return undefined;
    const text = buffer.toString('latin1', pos, lf > pos && buffer[lf - 1] === 0x0d ? lf - 1 : lf);
    pos = lf + 1;
    return text;
  };
  // Blank lines before the status line are tolerated, as HTTP/1.1 servers tolerate them before a request line.
  let status = line();
  while (status === '') status = line();
  const match = status === undefined ? null : /^HTTP\/\d(?:\.\d)? (\d{3})(?: (.*))?$/.exec(status);
  if (!match) throw malformed(`not an HTTP response: its first line is ${JSON.stringify((status ?? buffer.toString('latin1', 0, 60)).slice(0, 60))}`);
  const code = Number(match[1]);
  if (code < 200 || code > 599) throw malformed(`status ${code} cannot be a Response (200 to 599 only)`);
  const headers = new Headers();
  const append = (name: string, value: string) => {
    try {
      headers.append(name, value);
    } catch (cause) {
      throw new DecodeError('ERR_MALFORMED_PART', `${where}: this runtime's Headers refuses the header ${JSON.stringify(name)}`, { cause });
    }
  };
  for (;;) {
    const header = line();
    if (header === undefined) throw malformed('its header does not end with an empty line');
    if (header === '') break;
    const colon = header.indexOf(':');
    const name = header.slice(0, colon);
    if (colon <= 0 || !HEADER_NAME.test(name) || /[\0\r]/.test(header)) throw malformed(`a header line is not "Name: value": ${JSON.stringify(header.slice(0, 60))}`);
    append(name, header.slice(colon + 1).trim());
  }
  let body = buffer.subarray(pos);
  const length = headers.get('content-length');
  if (length !== null) {
    if (!/^\d+$/.test(length) || Number(length) > body.length) throw malformed(`its Content-Length ${length} does not match the ${body.length} bytes it holds`);
    body = body.subarray(0, Number(length));
  }
  try {
    return new Response(NULL_BODY.has(code) ? null : new Uint8Array(body.buffer, body.byteOffset, body.byteLength), { status: code, statusText: match[2] ?? '', headers });
  } catch (cause) {
    throw new DecodeError('ERR_MALFORMED_PART', `${where}: the Response constructor refuses it: ${(cause as Error).message}`, { cause });
  }
}
