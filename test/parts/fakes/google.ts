import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startServer } from '../../helpers/servers.js';

const CHUNK = 256 * 1024;

/**
 * A server that follows Google's published resumable upload protocol (Cloud Storage JSON API,
 * Drive v3): POST `?uploadType=resumable` starts a session (its URI in Location); each PUT to it
 * carries `Content-Range: bytes FIRST-LAST/TOTAL` (all but the last a multiple of 256 KiB) and is
 * answered 308 with `Range: bytes=0-N` (none when nothing is stored) or, once whole, 200 with
 * the object's metadata; `Content-Range: bytes *\/TOTAL` asks the status; DELETE cancels (499).
 */
export interface GoogleFake {
  start: string;
  sessions: Map<string, Session>;
  /** Every request, as "METHOD content-range". */
  log: string[];
  received: number;
  /** Names a session by a Location relative to the start URL (`o?...`, not `http://host/.../o?...`). */
  relativeLocation: boolean;
  fault: (info: {
    method: string;
    range: string | undefined;
    session: Session | undefined;
    attempt: number;
  }) => GoogleFault | undefined;
}

export interface Session {
  total: number | undefined;
  data: Buffer[];
  stored: number;
  metadata: Record<string, unknown>;
  done: boolean;
}

export type GoogleFault =
  | { status: number; retryAfter?: string; location?: string; range?: string }
  /** The connection is cut after this many body bytes; what arrived is kept in whole 256 KiB units, as Google does. */
  | { resetAfter: number }
  | { hang: true }
  /** Handled, then never answered; `then` runs once it is stored. */
  | { mute: () => void }
  /** The session forgets its last `bytes` before answering. */
  | { lose: number };

export async function startGoogleFake(): Promise<GoogleFake> {
  let requests = 0;
  const fake: GoogleFake = {
    start: '',
    sessions: new Map(),
    log: [],
    received: 0,
    relativeLocation: false,
    fault: () => undefined,
  };
  const server = await startServer((req, res) => {
    handle(fake, req, res, ++requests).catch(() => res.destroy());
  });
  fake.start = `${server.origin}/upload/storage/v1/b/bucket/o?uploadType=resumable&name=big.bin`;
  return fake;
}

async function body(
  req: IncomingMessage,
  fake: GoogleFake,
  resetAfter?: number,
): Promise<{ data: Buffer; cut: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    fake.received += chunk.length;
    if (resetAfter !== undefined && size >= resetAfter) {
      req.socket.destroy();
      return { data: Buffer.concat(chunks), cut: true };
    }
  }
  return { data: Buffer.concat(chunks), cut: false };
}

function answer(res: ServerResponse, status: number, headers: Record<string, string> = {}, text = ''): void {
  res.writeHead(status, { 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function status(res: ServerResponse, session: Session): void {
  if (session.done) {
    const whole = Buffer.concat(session.data);
    const metadata = {
      ...session.metadata,
      size: String(whole.length),
      sha256: createHash('sha256').update(whole).digest('hex'),
    };
    return answer(res, 200, { 'content-type': 'application/json' }, JSON.stringify(metadata));
  }
  answer(res, 308, session.stored > 0 ? { range: `bytes=0-${session.stored - 1}` } : {});
}

async function handle(fake: GoogleFake, req: IncomingMessage, res: ServerResponse, attempt: number): Promise<void> {
  const url = new URL(req.url!, 'http://x');
  const range = req.headers['content-range'];
  fake.log.push(`${req.method} ${range ?? ''}`);
  const id = url.searchParams.get('upload_id');
  const session = id === null ? undefined : fake.sessions.get(id);
  const fault = fake.fault({ method: req.method!, range, session, attempt });
  if (fault && 'hang' in fault) return void req.resume();
  if (fault && 'status' in fault) {
    req.resume();
    return answer(res, fault.status, {
      ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}),
      ...(fault.location ? { location: fault.location } : {}),
      ...(fault.range ? { range: fault.range } : {}),
    });
  }
  if (req.method === 'POST' && url.searchParams.get('uploadType') === 'resumable') {
    const text = (await body(req, fake)).data.toString('utf8');
    const declared = req.headers['x-upload-content-length'];
    const created = randomUUID();
    fake.sessions.set(created, {
      total: declared === undefined ? undefined : Number(declared),
      data: [],
      stored: 0,
      metadata: text ? JSON.parse(text) : {},
      done: false,
    });
    const query = `?uploadType=resumable&upload_id=${created}`;
    return answer(res, 200, {
      location: fake.relativeLocation
        ? `${url.pathname.split('/').pop()}${query}`
        : `http://${req.headers.host}${url.pathname}${query}`,
    });
  }
  if (session === undefined) return answer(res, 404, {}, 'Not Found');
  if (req.method === 'DELETE') {
    fake.sessions.delete(id!);
    return answer(res, 499);
  }
  if (req.method !== 'PUT' || range === undefined) return answer(res, 400, {}, 'Content-Range required');
  const query = /^bytes \*\/(\d+)$/.exec(range);
  if (query) {
    req.resume();
    if (session.total === undefined) session.total = Number(query[1]);
    if (session.total === 0 && !session.done) session.done = true;
    return status(res, session);
  }
  return putChunk(fake, req, res, session, range, fault);
}

async function putChunk(
  fake: GoogleFake,
  req: IncomingMessage,
  res: ServerResponse,
  session: Session,
  range: string,
  fault: GoogleFault | undefined,
): Promise<void> {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range);
  if (match === null) return answer(res, 400, {}, 'bad Content-Range');
  const [first, last, total] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const { data, cut } = await body(req, fake, fault && 'resetAfter' in fault ? fault.resetAfter : undefined);
  if (session.total !== undefined && session.total !== total) return answer(res, 400, {}, 'total changed');
  session.total = total;
  if (first > session.stored) return answer(res, 400, {}, 'a gap before this chunk');
  const length = last - first + 1;
  const kept = cut ? Math.floor(data.length / CHUNK) * CHUNK : data.length;
  if (!cut && (data.length !== length || (last + 1 < total && length % CHUNK !== 0)))
    return answer(res, 400, {}, 'chunks but the last must be multiples of 256 KiB, of the length the range says');
  const fresh = data.subarray(session.stored - first, kept);
  if (fresh.length > 0) {
    session.data.push(Buffer.from(fresh));
    session.stored += fresh.length;
  }
  if (cut) return;
  if (fault && 'lose' in fault) {
    const whole = Buffer.concat(session.data).subarray(0, session.stored - fault.lose);
    session.data = [whole];
    session.stored = whole.length;
  }
  if (session.stored === total) session.done = true;
  if (fault && 'mute' in fault) return void setImmediate(fault.mute);
  status(res, session);
}
