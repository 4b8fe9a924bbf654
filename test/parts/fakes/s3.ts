import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { startServer } from '../../helpers/servers.js';

/**
 * A small server that speaks S3's multipart upload and checks what Ceph's gateway checks: the
 * request's signature (here an HMAC over method, path and query, as a presigned URL carries one),
 * XML both ways, a Content-Length on every part (a chunked PUT is 411 MissingContentLength),
 * Content-MD5 and x-amz-checksum-* (400 BadDigest), parts completed in ascending order with their
 * ETags (InvalidPartOrder, InvalidPart), parts but the last of at least `minPartSize`
 * (EntityTooSmall). Faults are injected per request through `fault`.
 */
export interface S3Fake {
  origin: string;
  /** A presigned URL for `method` on `key` with `query`: what a backend's presigner hands out. */
  presign(method: string, key: string, query?: Record<string, string>): string;
  uploads: Map<string, Upload>;
  objects: Map<string, { sha256: string; size: number; etag: string }>;
  /** Every request, as "METHOD key?query-names". */
  log: string[];
  /** Most part PUTs whose bodies were being received at once. */
  maxParallel: number;
  /** Bytes of part bodies received, all attempts together. */
  received: number;
  /** Called for each request before it is handled: return a fault to apply. */
  fault: (request: FaultInfo) => Fault | undefined;
  close(): Promise<void>;
}

export interface Upload {
  key: string;
  parts: Map<number, { data: Buffer; etag: string }>;
  /** PUT attempts per part number. */
  attempts: Map<number, number>;
}

export interface FaultInfo {
  method: string;
  key: string;
  query: URLSearchParams;
  partNumber: number | undefined;
  /** This part's attempt, from 1. */
  attempt: number;
}

export type Fault =
  | { status: number; code?: string; retryAfter?: string }
  /** The connection is destroyed after this many bytes of the body arrived. */
  | { resetAfter: number }
  /** The answer is held until the request is aborted (a server that never answers). */
  | { hang: true }
  /** The part is stored, but answered with this ETag. */
  | { etag: string }
  /** The body is read slowly (a pause before each chunk), so the client's writes queue up. */
  | { slowRead: true }
  /**
   * Handled (a complete completes), but its answer lost: this status instead, the connection reset,
   * the answer cut short, or none at all (held until the request is aborted).
   */
  | { answerLost: number | 'reset' | 'cut' | 'hang' }
  /** The part is stored and answered 200 with its ETag, but the answer's body is cut short (a reset). */
  | { cutPartAnswer: true };

const SECRET = 'fake-s3-secret';

function signature(method: string, path: string, query: URLSearchParams): string {
  const pairs = [...query]
    .filter(([name]) => name !== 'X-Amz-Signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = `${method}\n${path}\n${new URLSearchParams(pairs).toString()}`;
  return createHmac('sha256', SECRET).update(canonical).digest('hex');
}

function xml(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function s3Error(res: ServerResponse, status: number, code: string, headers: Record<string, string> = {}): void {
  xml(res, status, `<Error><Code>${code}</Code><Message>${code} (fake)</Message></Error>`, headers);
}

export async function startS3Fake(
  /** `bareListETags`: ListParts gives ETags without their quotes, as some S3-speaking servers do. */
  options: { minPartSize?: number; pageSize?: number; bareListETags?: boolean } = {},
): Promise<S3Fake> {
  const minPartSize = options.minPartSize ?? 5 * 1024 * 1024;
  let inFlight = 0;
  const fake: S3Fake = {
    origin: '',
    presign(method, key, query = {}) {
      const params = new URLSearchParams({ ...query, 'X-Expires': '3600' });
      params.set('X-Amz-Signature', signature(method, `/bucket/${key}`, params));
      return `${fake.origin}/bucket/${key}?${params}`;
    },
    uploads: new Map(),
    objects: new Map(),
    log: [],
    maxParallel: 0,
    received: 0,
    fault: () => undefined,
    close: async () => {},
  };
  const server = await startServer((req, res) => {
    handle(
      fake,
      req,
      res,
      minPartSize,
      { pageSize: options.pageSize ?? 1000, bare: options.bareListETags ?? false },
      {
        enter: () => (fake.maxParallel = Math.max(fake.maxParallel, ++inFlight)),
        leave: () => inFlight--,
      },
    ).catch((error: Error) => {
      if (!res.headersSent) s3Error(res, 500, `InternalError ${error.message}`);
      else res.destroy();
    });
  });
  fake.origin = server.origin;
  fake.close = server.close;
  return fake;
}

async function readBody(
  req: IncomingMessage,
  fake: S3Fake | undefined,
  resetAfter: number | undefined,
  slow = false,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (slow) await new Promise((resolve) => setTimeout(resolve, 1));
    chunks.push(chunk);
    size += chunk.length;
    if (fake) fake.received += chunk.length;
    if (resetAfter !== undefined && size >= resetAfter) {
      req.socket.destroy();
      return undefined;
    }
  }
  return Buffer.concat(chunks);
}

async function handle(
  fake: S3Fake,
  req: IncomingMessage,
  res: ServerResponse,
  minPartSize: number,
  listing: Listing,
  parallel: { enter: () => void; leave: () => void },
): Promise<void> {
  const url = new URL(req.url!, 'http://x');
  const method = req.method!;
  const key = decodeURIComponent(url.pathname.replace(/^\/bucket\//, ''));
  const query = url.searchParams;
  if (url.pathname === '/presign') return presignService(fake, req, res);
  fake.log.push(`${method} ${key}?${[...query.keys()].filter((k) => !k.startsWith('X-')).join('&')}`);
  if (query.get('X-Amz-Signature') !== signature(method, url.pathname, query)) {
    req.resume();
    return s3Error(res, 403, 'SignatureDoesNotMatch');
  }
  const partNumber = query.has('partNumber') ? Number(query.get('partNumber')) : undefined;
  const upload = query.has('uploadId') ? fake.uploads.get(query.get('uploadId')!) : undefined;
  let attempt = 1;
  if (upload && partNumber !== undefined && method === 'PUT') {
    attempt = (upload.attempts.get(partNumber) ?? 0) + 1;
    upload.attempts.set(partNumber, attempt);
  }
  const fault = fake.fault({ method, key, query, partNumber, attempt });
  if (fault && 'hang' in fault) return void req.resume();
  if (fault && 'status' in fault) {
    req.resume();
    return s3Error(
      res,
      fault.status,
      fault.code ?? 'SlowDown',
      fault.retryAfter ? { 'retry-after': fault.retryAfter } : {},
    );
  }
  if (method === 'PUT' && partNumber !== undefined) {
    if (req.headers['content-length'] === undefined) {
      req.resume();
      return s3Error(res, 411, 'MissingContentLength');
    }
    parallel.enter();
    try {
      const resetAfter = fault && 'resetAfter' in fault ? fault.resetAfter : undefined;
      const body = await readBody(req, fake, resetAfter, fault !== undefined && 'slowRead' in fault);
      if (body === undefined) return;
      if (fault && 'cutPartAnswer' in fault) {
        const heard: { etag?: string } = {};
        const quiet = {
          writeHead: (_status: number, headers: { etag?: string }) => (Object.assign(heard, headers), quiet),
          end: () => {},
        } as unknown as ServerResponse;
        putPart(fake, req, quiet, upload, partNumber, body, undefined);
        res.writeHead(200, { etag: heard.etag ?? '', 'content-length': 100 });
        res.write('<partial', () => req.socket.destroy());
        return;
      }
      return putPart(fake, req, res, upload, partNumber, body, fault && 'etag' in fault ? fault.etag : undefined);
    } finally {
      parallel.leave();
    }
  }
  const body = (await readBody(req, undefined, undefined))!;
  if (method === 'POST' && query.has('uploads')) {
    const id = randomUUID();
    fake.uploads.set(id, { key, parts: new Map(), attempts: new Map() });
    return xml(
      res,
      200,
      `<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>${key}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`,
    );
  }
  if (upload === undefined) return s3Error(res, 404, 'NoSuchUpload');
  if (method === 'GET') return listParts(res, upload, query, listing);
  if (method === 'DELETE') {
    fake.uploads.delete(query.get('uploadId')!);
    res.writeHead(204).end();
    return;
  }
  if (method === 'POST' && fault && 'answerLost' in fault) {
    const unheard = { writeHead: () => unheard, end: () => {} } as unknown as ServerResponse;
    complete(fake, unheard, query.get('uploadId')!, upload, body.toString('utf8'), minPartSize);
    const lost = fault.answerLost;
    if (lost === 'hang') return;
    if (lost === 'reset') return void req.socket.destroy();
    if (lost === 'cut') {
      res.writeHead(200, { 'content-type': 'application/xml', 'content-length': '1000' });
      res.write('<?xml version="1.0"?><CompleteMultipartUploadResult>', () => req.socket.destroy());
      return;
    }
    return s3Error(res, lost, 'InternalError');
  }
  if (method === 'POST') return complete(fake, res, query.get('uploadId')!, upload, body.toString('utf8'), minPartSize);
  s3Error(res, 405, 'MethodNotAllowed');
}

function putPart(
  fake: S3Fake,
  req: IncomingMessage,
  res: ServerResponse,
  upload: Upload | undefined,
  partNumber: number,
  body: Buffer,
  forcedEtag: string | undefined,
): void {
  if (upload === undefined) return s3Error(res, 404, 'NoSuchUpload');
  if (!(Number.isInteger(partNumber) && partNumber >= 1 && partNumber <= 10000))
    return s3Error(res, 400, 'InvalidArgument');
  if (Number(req.headers['content-length']) !== body.length) return s3Error(res, 400, 'IncompleteBody');
  const md5 = createHash('md5').update(body);
  const digest = md5.copy().digest();
  const contentMd5 = req.headers['content-md5'];
  if (contentMd5 !== undefined) {
    if (Buffer.from(String(contentMd5), 'base64').length !== 16) return s3Error(res, 400, 'InvalidDigest');
    if (String(contentMd5) !== digest.toString('base64')) return s3Error(res, 400, 'BadDigest');
  }
  const crc = req.headers['x-amz-checksum-crc32'];
  if (crc !== undefined) {
    const expected = Buffer.alloc(4);
    expected.writeUInt32BE(crc32(body) >>> 0);
    if (String(crc) !== expected.toString('base64')) return s3Error(res, 400, 'BadDigest');
  }
  const sha = req.headers['x-amz-checksum-sha256'];
  if (sha !== undefined && String(sha) !== createHash('sha256').update(body).digest('base64'))
    return s3Error(res, 400, 'BadDigest');
  const etag = `"${digest.toString('hex')}"`;
  upload.parts.set(partNumber, { data: body, etag });
  res.writeHead(200, { etag: forcedEtag ?? etag, 'content-length': 0 });
  res.end();
}

/** How ListParts answers: parts per page, and ETags with or without their quotes. */
interface Listing {
  pageSize: number;
  bare: boolean;
}

function listParts(res: ServerResponse, upload: Upload, query: URLSearchParams, listing: Listing): void {
  const marker = Number(query.get('part-number-marker') ?? 0);
  const max = Number(query.get('max-parts') ?? listing.pageSize);
  const numbers = [...upload.parts.keys()].filter((n) => n > marker).sort((a, b) => a - b);
  const page = numbers.slice(0, max);
  const truncated = numbers.length > max;
  const parts = page
    .map((n) => {
      const part = upload.parts.get(n)!;
      const etag = listing.bare ? part.etag.replace(/"/g, '') : part.etag.replace(/"/g, '&quot;');
      return `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag><Size>${part.data.length}</Size></Part>`;
    })
    .join('');
  const next = truncated ? `<NextPartNumberMarker>${page.at(-1)}</NextPartNumberMarker>` : '';
  xml(res, 200, `<ListPartsResult><IsTruncated>${truncated}</IsTruncated>${next}${parts}</ListPartsResult>`);
}

const ENTITIES: Record<string, string> = { '&quot;': '"', '&amp;': '&', '&lt;': '<', '&gt;': '>', '&apos;': "'" };

/** The parts of a CompleteMultipartUpload body, read strictly: anything else in it is MalformedXML. */
function completeParts(body: string): Array<{ n: number; etag: string }> | undefined {
  const match =
    /^<\?xml[^>]*\?>\s*<CompleteMultipartUpload(?: xmlns="[^"]*")?>((?:<Part>.*?<\/Part>)*)<\/CompleteMultipartUpload>\s*$/s.exec(
      body,
    );
  if (match === null) return undefined;
  const parts: Array<{ n: number; etag: string }> = [];
  for (const part of match[1]!.matchAll(/<Part>(.*?)<\/Part>/gs)) {
    const fields =
      /^<PartNumber>(\d+)<\/PartNumber><ETag>([^<]*)<\/ETag>(?:<Checksum(?:CRC32|SHA256)>[^<]*<\/Checksum(?:CRC32|SHA256)>)*$/.exec(
        part[1]!,
      );
    if (fields === null) return undefined;
    parts.push({ n: Number(fields[1]), etag: fields[2]!.replace(/&(quot|amp|lt|gt|apos);/g, (e) => ENTITIES[e]!) });
  }
  return parts;
}

function complete(
  fake: S3Fake,
  res: ServerResponse,
  id: string,
  upload: Upload,
  body: string,
  minPartSize: number,
): void {
  const parts = completeParts(body);
  if (parts === undefined || parts.length === 0) return s3Error(res, 400, 'MalformedXML');
  for (let i = 1; i < parts.length; i++)
    if (parts[i]!.n <= parts[i - 1]!.n) return s3Error(res, 400, 'InvalidPartOrder');
  const whole = createHash('sha256');
  const md5s: Buffer[] = [];
  let size = 0;
  for (const [i, { n, etag }] of parts.entries()) {
    const part = upload.parts.get(n);
    if (part === undefined || part.etag !== etag) return s3Error(res, 400, 'InvalidPart');
    if (i < parts.length - 1 && part.data.length < minPartSize) return s3Error(res, 400, 'EntityTooSmall');
  }
  for (const { n } of parts) {
    const { data } = upload.parts.get(n)!;
    whole.update(data);
    md5s.push(createHash('md5').update(data).digest());
    size += data.length;
  }
  const etag = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${parts.length}"`;
  fake.objects.set(upload.key, { sha256: whole.digest('hex'), size, etag });
  fake.uploads.delete(id);
  xml(
    res,
    200,
    `<CompleteMultipartUploadResult><Location>${fake.origin}/bucket/${upload.key}</Location><Bucket>bucket</Bucket><Key>${upload.key}</Key><ETag>${etag.replace(/"/g, '&quot;')}</ETag></CompleteMultipartUploadResult>`,
  );
}

/** What a backend does for its clients: POST /presign with `{ method, key, query }` answers a presigned URL. */
async function presignService(fake: S3Fake, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { method, key, query } = JSON.parse((await readBody(req, undefined, undefined))!.toString('utf8')) as {
    method: string;
    key: string;
    query: Record<string, string>;
  };
  const presigned = fake.presign(method, key, query);
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(presigned) });
  res.end(presigned);
}
