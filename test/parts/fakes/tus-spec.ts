import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startServer } from '../../helpers/servers.js';

/**
 * A tus 1.0 server written from the protocol's text, for the extensions @tus/server's file store
 * does not offer: checksum (Upload-Checksum, 460 on a mismatch) and concatenation (partial uploads
 * joined by a final one). Core, creation and termination as the text says.
 */
export interface TusSpecServer {
  endpoint: string;
  uploads: Map<string, { length: number; data: Buffer[]; offset: number; partial: boolean; parts?: string[] }>;
  log: string[];
  /** Returns true to corrupt this PATCH's body on arrival (a checksum mismatch). */
  corrupt: (url: string) => boolean;
  /**
   * Called as a final upload is asked for: 'hang' makes it and never answers, 'reset' makes it and
   * cuts the connection, 'gateway' makes it and answers 502 (a proxy that lost its answer), 'refuse'
   * answers 400.
   */
  onFinal: () => 'answer' | 'hang' | 'reset' | 'refuse' | 'gateway';
  /** Called once a PATCH is stored, before its answer: may change the upload (a server losing bytes). */
  onPatch: (upload: { data: Buffer[]; offset: number }) => void;
  /** Names a created upload by a Location relative to the endpoint (`ID`, not `http://host/files/ID`). */
  relativeLocation: boolean;
  /** The bytes of a final (or plain) upload. */
  bytes(url: string): Buffer;
}

const HEADERS = { 'tus-resumable': '1.0.0' };

export async function startTusSpecServer(): Promise<TusSpecServer> {
  const state: TusSpecServer = {
    endpoint: '',
    uploads: new Map(),
    log: [],
    corrupt: () => false,
    onFinal: () => 'answer',
    onPatch: () => {},
    relativeLocation: false,
    bytes(url) {
      const upload = state.uploads.get(new URL(url, 'http://x').pathname)!;
      if (upload.parts) return Buffer.concat(upload.parts.map((part) => state.bytes(part)));
      return Buffer.concat(upload.data);
    },
  };
  const server = await startServer((req, res) => void handle(state, req, res).catch(() => res.destroy()));
  state.endpoint = `${server.origin}/files/`;
  return state;
}

function end(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...HEADERS, 'content-length': 0, ...headers });
  res.end();
}

async function handle(state: TusSpecServer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url!, 'http://x').pathname;
  state.log.push(`${req.method} ${path} ${req.headers['upload-concat'] ?? ''}`.trim());
  if (req.method === 'OPTIONS') {
    return end(res, 204, {
      'tus-version': '1.0.0',
      'tus-extension': 'creation,termination,checksum,concatenation',
      'tus-checksum-algorithm': 'md5,sha1',
    });
  }
  if (req.headers['tus-resumable'] !== '1.0.0') return end(res, 412);
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  if (req.method === 'POST') return create(state, req, res);
  const upload = state.uploads.get(path);
  if (upload === undefined) return end(res, 404);
  if (req.method === 'HEAD')
    return end(res, 200, {
      'upload-offset': String(upload.offset),
      'upload-length': String(upload.length),
      'cache-control': 'no-store',
    });
  if (req.method === 'DELETE') {
    state.uploads.delete(path);
    return end(res, 204);
  }
  if (req.method !== 'PATCH' || upload.parts) return end(res, 405);
  if (req.headers['content-type'] !== 'application/offset+octet-stream') return end(res, 415);
  if (Number(req.headers['upload-offset']) !== upload.offset) return end(res, 409);
  const checksum = req.headers['upload-checksum'];
  if (checksum !== undefined) {
    const [algorithm, value] = String(checksum).split(' ');
    const data = state.corrupt(path) ? Buffer.concat([body, Buffer.from('x')]) : body;
    if (createHash(algorithm!).update(data).digest('base64') !== value) return end(res, 460);
  }
  if (upload.offset + body.length > upload.length) return end(res, 400);
  upload.data.push(body);
  upload.offset += body.length;
  state.onPatch(upload);
  end(res, 204, { 'upload-offset': String(upload.offset) });
}

function create(state: TusSpecServer, req: IncomingMessage, res: ServerResponse): void {
  const concat = req.headers['upload-concat'];
  const id = `/files/${randomUUID()}`;
  if (typeof concat === 'string' && concat.startsWith('final;')) {
    const parts = concat
      .slice(6)
      .split(' ')
      .map((url) => new URL(url, 'http://x').pathname);
    if (
      parts.some((part) => {
        const p = state.uploads.get(part);
        return !p?.partial || p.offset !== p.length;
      })
    )
      return end(res, 400);
    const fate = state.onFinal();
    if (fate === 'refuse') return end(res, 400);
    const length = parts.reduce((sum, part) => sum + state.uploads.get(part)!.length, 0);
    state.uploads.set(id, { length, data: [], offset: length, partial: false, parts });
    if (fate === 'hang') return;
    if (fate === 'reset') return void req.socket.destroy();
    if (fate === 'gateway') return end(res, 502);
  } else {
    const length = Number(req.headers['upload-length']);
    if (!Number.isSafeInteger(length) || length < 0) return end(res, 400);
    state.uploads.set(id, { length, data: [], offset: 0, partial: concat === 'partial' });
  }
  end(res, 201, { location: state.relativeLocation ? id.slice('/files/'.length) : `http://${req.headers.host}${id}` });
}
