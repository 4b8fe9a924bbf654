import { once } from 'node:events';
import { IncomingMessage, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  createReceiver,
  formatReport,
  receive,
  ReceiveError,
  REPORT_LIMITS,
  type ReceiptReport,
  type ReceiverOptions,
} from '../../src/receiver/index.js';
import {
  answerJson,
  BOUNDARY,
  chunk,
  close,
  exchange,
  field,
  FORM,
  head,
  part,
  request,
  type Ending,
} from './hostile.js';

async function listen(options: ReceiverOptions = {}): Promise<number> {
  const server: Server = createReceiver(options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return (server.address() as AddressInfo).port;
}

describe('every option is checked: ERR_INVALID_OPTION (status 500) from createReceiver() and receive()', () => {
  const bad: [string, unknown][] = [
    ['idleTimeoutMs NaN', { idleTimeoutMs: NaN }],
    ['idleTimeoutMs Infinity', { idleTimeoutMs: Infinity }],
    ['idleTimeoutMs 2**31 (a timer would fire at once)', { idleTimeoutMs: 2 ** 31 }],
    ['idleTimeoutMs 0', { idleTimeoutMs: 0 }],
    ['maxBodyBytes negative', { maxBodyBytes: -1 }],
    ['maxBodyBytes NaN', { maxBodyBytes: NaN }],
    ['maxBodyBytes Infinity', { maxBodyBytes: Infinity }],
    ['maxParts 1.5', { maxParts: 1.5 }],
    ['maxHeaderPairs as a string', { maxHeaderPairs: '100' }],
    ['maxHeaderBytes 0', { maxHeaderBytes: 0 }],
    ['a misspelt key', { maxBodySize: 10 }],
    ['not an object', 'fast'],
  ];
  it.each(bad)('%s', async (_what, options) => {
    expect(() => createReceiver(options as ReceiverOptions)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', status: 500 }),
    );
    const req = new IncomingMessage(new net.Socket());
    req.headers = {};
    await expect(receive(req, options as ReceiverOptions)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });

  it.each([
    ['format', { format: 'xml' }],
    ['onReport', { onReport: 'log' }],
    ['onError', { onError: 1 }],
  ])('createReceiver() checks %s', (_what, options) => {
    expect(() => createReceiver(options as ReceiverOptions)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    );
  });

  it('accepts 2**31 bytes and the longest timer', () => {
    expect(() => createReceiver({ maxBodyBytes: 2 ** 31, idleTimeoutMs: 2 ** 31 - 1 }).close()).not.toThrow();
  });

  it('ReceiveError is branded: instanceof holds for a copy of the class from another build', () => {
    const error = new ReceiveError('ERR_BODY_TOO_LARGE', 'x');
    expect(error).toMatchObject({ code: 'ERR_BODY_TOO_LARGE', status: 413, name: 'ReceiveError' });
    expect(Object.assign(new Error('y'), { [Symbol.for('multipart-poster.ReceiveError')]: true })).toBeInstanceOf(
      ReceiveError,
    );
    // The constructor of earlier versions, from a status, still works: the status's usual code.
    expect(new ReceiveError('too big', 413)).toMatchObject({
      code: 'ERR_BODY_TOO_LARGE',
      status: 413,
      message: 'too big',
    });
  });
});

describe('the report is bounded whatever the request', () => {
  it('10,000 parts, one with a 7,000-character name and type: both answers stay under 1 MiB, every part counted', async () => {
    const port = await listen({ maxParts: 20_000 });
    const long = 'n'.repeat(7_000);
    const body = Buffer.concat([
      field(long, 'x', `Content-Type: ${'t'.repeat(7_000)}`),
      ...Array.from({ length: 9_999 }, (_, i) => field(`f${i}`, 'y')),
      Buffer.from(close()),
    ]);
    for (const format of ['json', 'text']) {
      const { status, response } = await exchange(port, [request(`/many?format=${format}`, FORM, body)], 'answer');
      expect(status).toBe(200);
      expect(response.length).toBeLessThan(1024 * 1024);
      if (format === 'text') {
        expect(response.toString()).toMatch(/10000 part\(s\)/);
        expect(response.toString()).toMatch(/\(9000 more part\(s\) not listed\)/);
        continue;
      }
      const report = answerJson(response) as ReceiptReport;
      expect(report.partCount).toBe(10_000);
      expect(report.parts).toHaveLength(REPORT_LIMITS.parts);
      expect(report.parts[0]).toMatchObject({
        name: 'n'.repeat(REPORT_LIMITS.chars),
        type: 't'.repeat(REPORT_LIMITS.chars),
        truncated: true,
        size: 1,
      });
      expect(report.parts[1]).not.toHaveProperty('truncated');
    }
  });

  it('a name is never cut in the middle of a surrogate pair; the text table shows control characters escaped', () => {
    const report: ReceiptReport = {
      method: 'POST',
      path: '/',
      contentLength: 1,
      chunked: false,
      bytesReceived: 1,
      lengthMatches: true,
      partCount: 1,
      parts: [{ name: 'a\x1bb\x9bc', filename: 'nel\x85\x7f', type: 'x/\x80\x9f\xa0', size: 1, sha256: 'x' }],
    };
    const table = formatReport({ ...report, path: '/p\x9bq' });
    expect(table).toContain('a\\x1bb\\x9bc');
    expect(table).toContain('nel\\x85\\x7f');
    expect(table).toContain('x/\\x80\\x9f\xa0');
    expect(table).toContain('POST /p\\x9bq');
    expect(table).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });

  it('over a real socket, format text: C0 and C1 controls in a name and a filename come back escaped', async () => {
    const port = await listen({ format: 'text' });
    // ESC and U+009B (CSI, C2 9B in UTF-8) in the name, U+0085 (NEL) in the filename.
    const disposition = 'Content-Disposition: form-data; name="esc\x1b[31m csi\u009b31m"; filename="nel\u0085x"';
    const body = Buffer.concat([part([disposition], 'x'), Buffer.from(close())]);
    expect(body.includes(Buffer.from([0xc2, 0x9b]))).toBe(true);
    const { status, response } = await exchange(port, [request('/', FORM, body)], 'answer');
    expect(status).toBe(200);
    const text = response.toString('utf8');
    const table = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(table).toContain('esc\\x1b[31m csi\\x9b31m');
    expect(table).toContain('nel\\x85x');
    expect(table).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });
});

describe('callbacks that throw end as an answer, and the server goes on', () => {
  it('onReport throws: answered 500 ERR_CALLBACK_FAILED, and onError hears of it', async () => {
    const errors: string[] = [];
    const port = await listen({
      onReport: () => {
        throw new Error('report sink down');
      },
      onError: (error) => void errors.push((error as ReceiveError).code),
    });
    const { status, response } = await exchange(
      port,
      [request('/', FORM, Buffer.concat([field('a', 'b'), Buffer.from(close())]))],
      'answer',
    );
    expect(status).toBe(500);
    expect(answerJson(response)).toEqual({ error: 'onReport failed: report sink down', code: 'ERR_CALLBACK_FAILED' });
    expect(errors).toEqual(['ERR_CALLBACK_FAILED']);
  });

  it('onError throws: the refusal is still answered, a warning is emitted, nothing is unhandled', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning.message);
    process.on('warning', onWarning);
    onTestFinished(() => void process.off('warning', onWarning));
    const port = await listen({
      maxParts: 1,
      onError: () => {
        throw new Error('log sink down');
      },
    });
    const body = Buffer.concat([field('a', '1'), field('b', '2'), Buffer.from(close())]);
    const { status } = await exchange(port, [request('/', FORM, body)], 'answer');
    expect(status).toBe(413);
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.join()).toMatch(/onError threw: log sink down/);
    const again = await exchange(
      port,
      [request('/', FORM, Buffer.concat([field('a', '1'), Buffer.from(close())]))],
      'answer',
    );
    expect(again.status).toBe(200);
  });
});

describe('callbacks that fail in every way a caller can: an answer, never a crash, and the server goes on', () => {
  const nullProto = () => Object.create(null) as unknown;
  const failures: [what: string, fail: () => unknown, message: string | RegExp][] = [
    [
      'throws an Error',
      () => {
        throw new Error('sink down');
      },
      'sink down',
    ],
    [
      'throws undefined',
      () => {
        throw undefined;
      },
      'undefined',
    ],
    [
      'throws an object with no prototype',
      () => {
        throw nullProto();
      },
      /cannot be shown as text/,
    ],
    ['is async and rejects', async () => Promise.reject(new Error('async sink down')), 'async sink down'],
    [
      'is async and rejects with an object with no prototype',
      async () => Promise.reject(nullProto()),
      /cannot be shown/,
    ],
    [
      'returns a thenable whose then() throws',
      () => ({
        then() {
          throw new Error('then failed');
        },
      }),
      'then failed',
    ],
  ];
  const good = () => request('/', FORM, Buffer.concat([field('a', '1'), Buffer.from(close())]));
  const tooMany = () => request('/', FORM, Buffer.concat([field('a', '1'), field('b', '2'), Buffer.from(close())]));

  /** Process warnings emitted from now until the test ends. */
  function warnings(): string[] {
    const seen: string[] = [];
    const onWarning = (warning: Error) => void seen.push(warning.message);
    process.on('warning', onWarning);
    onTestFinished(() => void process.off('warning', onWarning));
    return seen;
  }

  it.each(failures)('onReport %s: 500 ERR_CALLBACK_FAILED, told to onError', async (_what, fail, message) => {
    const errors: unknown[] = [];
    const port = await listen({ onReport: fail, onError: (error) => void errors.push(error) });
    const { status, response } = await exchange(port, [good()], 'answer');
    expect(status).toBe(500);
    const answer = answerJson(response) as { error: string; code: string };
    expect(answer.code).toBe('ERR_CALLBACK_FAILED');
    expect(answer.error.replace(/^onReport failed: /, '')).toMatch(message);
    expect(errors).toMatchObject([{ code: 'ERR_CALLBACK_FAILED', status: 500 }]);
    expect((await exchange(port, [good()], 'answer')).status).toBe(500);
  });

  it.each(failures)('onError %s: the refusal answered as it was, a process warning', async (_what, fail, message) => {
    const seen = warnings();
    const port = await listen({ maxParts: 1, onError: fail });
    const { status, response } = await exchange(port, [tooMany()], 'answer');
    expect(status).toBe(413);
    expect(answerJson(response)).toMatchObject({ code: 'ERR_TOO_MANY_PARTS' });
    for (let turn = 0; turn < 50 && seen.length === 0; turn++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.replace(/^multipart-poster receiver: onError threw: /, '')).toMatch(message);
    expect((await exchange(port, [good()], 'answer')).status).toBe(200);
  });

  it('an onReport whose promise never settles: 500 ERR_CALLBACK_FAILED once idleTimeoutMs pass', async () => {
    const port = await listen({ idleTimeoutMs: 200, onReport: () => new Promise(() => {}) });
    const asked = Date.now();
    const { status, response } = await exchange(port, [good()], 'answer');
    expect(status).toBe(500);
    expect(answerJson(response)).toMatchObject({ code: 'ERR_CALLBACK_FAILED' });
    expect((answerJson(response) as { error: string }).error).toMatch(/did not settle within 200 ms/);
    expect(Date.now() - asked).toBeLessThan(5_000);
  });

  it('an async onReport is waited for before the answer is sent', async () => {
    let stored = false;
    const port = await listen({
      onReport: async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        stored = true;
      },
    });
    const { status } = await exchange(port, [good()], 'answer');
    expect(status).toBe(200);
    expect(stored).toBe(true);
  });
});

describe('a request Node cannot read on (bad chunked framing) is ERR_MALFORMED_BODY; a client that goes is ERR_CLIENT_GONE', () => {
  /** The first error onError hears of, within a bound. */
  async function heard(ending: Ending, pieces: Buffer[]): Promise<{ error: ReceiveError; status: number | null }> {
    let tell!: (error: ReceiveError) => void;
    const told = new Promise<ReceiveError>((resolve) => (tell = resolve));
    const port = await listen({ onError: (error) => tell(error as ReceiveError) });
    const { status } = await exchange(port, pieces, ending, 10_000);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('onError was not called within 5 s')), 5_000);
    });
    try {
      return { error: await Promise.race([told, bound]), status };
    } finally {
      clearTimeout(timer);
    }
  }
  const start = Buffer.from(head('/chunked', FORM, 'chunked'));
  /** The first `size` bytes of a well-formed body: a part's delimiter and header, then its data. */
  const partStart = (size: number) =>
    Buffer.concat([part(['Content-Disposition: form-data; name="a"'], Buffer.alloc(size, 'p'))]).subarray(0, size);
  const sizes = [0, 1, 16383, 16385, 65535, 65537];

  it.each(sizes)('%i bytes of good chunks, then a chunk size that is not hex: 400 ERR_MALFORMED_BODY', async (size) => {
    const data = partStart(size);
    const pieces = [start, ...(size === 0 ? [] : [chunk(data)]), Buffer.from('zz\r\nxx\r\n')];
    const { error, status } = await heard('answer', pieces);
    expect(status).toBe(400);
    expect(error).toMatchObject({ code: 'ERR_MALFORMED_BODY', status: 400, cause: { code: 'HPE_INVALID_CHUNK_SIZE' } });
    expect(error.message).toMatch(/^malformed request: /);
  });

  it.each(sizes)('%i bytes of good chunks, then the client closes (FIN) or resets: ERR_CLIENT_GONE', async (size) => {
    const data = partStart(size);
    for (const ending of ['close', 'reset'] as const) {
      const pieces = [start, ...(size === 0 ? [] : [chunk(data)]), Buffer.from('5\r\nab')];
      const { error } = await heard(ending, pieces);
      expect(error, ending).toMatchObject({ code: 'ERR_CLIENT_GONE', status: 400 });
    }
  });
});

/** Resolves once the socket can take more, or is gone (an 'error' included: the server may close on us). */
const writable = (socket: net.Socket) =>
  new Promise<void>((resolve) => {
    const done = () => {
      for (const event of ['drain', 'close', 'error']) socket.off(event, done);
      resolve();
    };
    for (const event of ['drain', 'close', 'error']) socket.on(event, done);
  });

/**
 * A client that writes a whole body of `size` bytes after the head (as upload() and fetch do),
 * ignoring any early answer, then reads what came back. Null when the connection was reset before
 * an answer could be read.
 */
async function stubbornClient(port: number, start: Buffer, size: number): Promise<{ answer: string; reset: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  let reset = false;
  socket.on('data', (c: Buffer) => received.push(c));
  socket.on('error', () => void (reset = true));
  await once(socket, 'connect');
  socket.write(start);
  const block = Buffer.alloc(64 * 1024, 'x');
  for (let sent = 0; sent < size && !socket.destroyed; sent += block.length) {
    if (!socket.write(block.subarray(0, Math.min(block.length, size - sent)))) await writable(socket);
  }
  socket.end();
  if (!socket.destroyed) await once(socket, 'close');
  return { answer: Buffer.concat(received).toString('latin1'), reset };
}

describe('an early refusal reaches a client that is still sending (issue 15, class 5)', () => {
  it('413 for too many parts, while the client sends the rest of a 4 MiB body: the answer arrives every time, no reset', async () => {
    const port = await listen({ maxParts: 3 });
    const parts = Buffer.concat([0, 1, 2, 3].map((i) => field(`f${i}`, 'x')));
    const size = 4 * 1024 * 1024;
    const start = Buffer.concat([Buffer.from(head('/early', FORM, parts.length + size)), parts]);
    for (let attempt = 0; attempt < 30; attempt++) {
      const { answer, reset } = await stubbornClient(port, start, size);
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toMatch(/more than 3 parts/);
      expect(reset).toBe(false);
    }
  });

  it('413 for too many parts after a 100 Continue: the client told to go on gets the answer, no reset', async () => {
    const port = await listen({ maxParts: 3 });
    const parts = Buffer.concat([0, 1, 2, 3].map((i) => field(`f${i}`, 'x')));
    const size = 4 * 1024 * 1024;
    const expecting = head('/early', FORM, parts.length + size, 'Expect: 100-continue\r\n');
    const start = Buffer.concat([Buffer.from(expecting), parts]);
    for (let attempt = 0; attempt < 10; attempt++) {
      const { answer, reset } = await stubbornClient(port, start, size);
      expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 413 [\s\S]*more than 3 parts/);
      expect(reset).toBe(false);
    }
  });

  it('413 for a declared length over the limit, the body sent anyway', async () => {
    const port = await listen({ maxBodyBytes: 1024 });
    const size = 2 * 1024 * 1024;
    const { answer, reset } = await stubbornClient(
      port,
      Buffer.from(head('/big', 'application/octet-stream', size)),
      size,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 [\s\S]*over the limit of 1024/);
    expect(reset).toBe(false);
  });

  it('Expect: 100-continue with a declared length over the limit: 413 at once, no 100 Continue', async () => {
    const port = await listen({ maxBodyBytes: 1024 });
    const { status, response } = await exchange(
      port,
      [head('/expect', 'application/octet-stream', 5000, 'Expect: 100-continue\r\n')],
      'answer',
    );
    expect(status).toBe(413);
    expect(response.toString('latin1')).not.toMatch(/100 Continue/);
  });

  it('Expect: 100-continue within the limit: 100 Continue, then the report', async () => {
    const port = await listen();
    const body = Buffer.concat([field('a', 'b'), Buffer.from(close())]);
    const { status, response } = await exchange(
      port,
      [head('/expect', FORM, body.length, 'Expect: 100-continue\r\nConnection: close\r\n'), body],
      'answer',
    );
    expect(response.toString('latin1')).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(status).toBe(100);
  });

  it('a client that sends forever after the refusal is cut off once the linger bound is read', async () => {
    const port = await listen({ maxParts: 1 });
    const parts = Buffer.concat([field('a', '1'), field('b', '2')]);
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write(head('/forever', FORM, 'chunked'));
    socket.write(`${parts.length.toString(16)}\r\n`);
    socket.write(parts);
    socket.write('\r\n');
    const block = Buffer.from(`10000\r\n${'z'.repeat(0x10000)}\r\n`);
    let sent = 0;
    while (!socket.destroyed && sent < 512 * 1024 * 1024) {
      sent += block.length;
      if (!socket.write(block)) await writable(socket);
    }
    socket.destroy();
    expect(sent).toBeLessThan(512 * 1024 * 1024);
    expect(Buffer.concat(received).toString('latin1')).toMatch(/^HTTP\/1\.1 413 /);
  });
});

describe('long boundaries (issue 15, class 2: one over 252 characters made the previous parser throw, unhandled)', () => {
  it('a 300-character boundary is read; one over 1,000 characters is answered 400; the server goes on', async () => {
    const port = await listen();
    for (const [length, status] of [
      [300, 200],
      [1001, 400],
    ] as const) {
      const boundary = 'b'.repeat(length);
      const body = Buffer.concat([
        part(['Content-Disposition: form-data; name="a"'], 'x', boundary),
        Buffer.from(close(boundary)),
      ]);
      const { status: got, response } = await exchange(
        port,
        [request('/long', `multipart/form-data; boundary=${boundary}`, body)],
        'answer',
      );
      expect(got).toBe(status);
      if (status === 400) expect(answerJson(response)).toMatchObject({ code: 'ERR_INVALID_CONTENT_TYPE' });
    }
    const { status } = await exchange(
      port,
      [request('/after', FORM, Buffer.concat([field('a', 'b'), Buffer.from(close())]))],
      'answer',
    );
    expect(status).toBe(200);
  });
});

describe('receive() in a server of your own', () => {
  it('a malformed body: ReceiveError ERR_MALFORMED_BODY whose cause is the DecodeError with its offset', async () => {
    const req = new IncomingMessage(new net.Socket());
    req.method = 'POST';
    req.headers = { 'content-type': FORM };
    setImmediate(() => {
      req.push(part(['Content-Disposition: form-data; name="a"', 'no colon'], 'x'));
      req.complete = true;
      req.push(null);
    });
    const error = (await receive(req).catch((e: unknown) => e)) as ReceiveError;
    expect(error).toMatchObject({
      code: 'ERR_MALFORMED_BODY',
      status: 400,
      cause: { code: 'ERR_MALFORMED_HEADER', offset: 54 },
    });
    expect(error.message).toMatch(new RegExp(`malformed multipart body: part 1: a header line is not "Name: value"`));
  });

  it('a client that stops sending: ERR_IDLE_TIMEOUT (408), and the request is drained afterwards', async () => {
    const req = new IncomingMessage(new net.Socket());
    req.method = 'POST';
    req.headers = { 'content-type': `multipart/mixed; boundary=${BOUNDARY}` };
    req.push(`--${BOUNDARY}\r\n`);
    await expect(receive(req, { idleTimeoutMs: 50 })).rejects.toMatchObject({ code: 'ERR_IDLE_TIMEOUT', status: 408 });
    req.push(Buffer.alloc(100_000));
    req.push(null);
    await once(req, 'end');
  });
});

describe("Node's requestTimeout", () => {
  it('a request that outlasts it is ERR_REQUEST_TIMEOUT (408, as Node answers), not a client gone', async () => {
    const errors: ReceiveError[] = [];
    const server = createReceiver({ onError: (error) => void errors.push(error as ReceiveError) }) as Server & {
      connectionsCheckingInterval: number; // an option of http.createServer, kept on the server
    };
    // Node checks both against the request's start, the requestTimeout only when the headersTimeout is not longer.
    server.headersTimeout = 500;
    server.requestTimeout = 600;
    server.connectionsCheckingInterval = 100; // read when the server starts listening
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
    const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write(head('/slow', FORM, 10_000));
    // A byte every 50 ms: never idle, but never done.
    const trickle = setInterval(() => socket.write('x'), 50);
    await once(socket, 'close');
    clearInterval(trickle);
    expect(Buffer.concat(received).toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors.map(({ code, status }) => ({ code, status }))).toEqual([
      { code: 'ERR_REQUEST_TIMEOUT', status: 408 },
    ]);
  });
});
