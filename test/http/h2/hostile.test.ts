import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { UploadError, upload } from '../../../src/index.js';
import { FRAME, frame, goawayFrame, startRawH2Server, type RawConnection } from '../../helpers/h2.js';
import { causeCode, failure, testPool, until } from './client.js';

// The failures a hostile review found: each test failed before its fix.

/** HEADERS with literal (never indexed) fields, END_HEADERS, and END_STREAM when asked. */
function headers(streamId: number, fields: Array<[string, string]>, endStream = false): Buffer {
  const parts = fields.map(([name, value]) =>
    Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]),
  );
  return frame(FRAME.HEADERS, 4 | (endStream ? 1 : 0), streamId, Buffer.concat(parts));
}

const data = (streamId: number, text: string, endStream = false) =>
  frame(FRAME.DATA, endStream ? 1 : 0, streamId, Buffer.from(text));

function rst(streamId: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, streamId, payload);
}

/** A frame server that calls `answer` once a request's body has ended. */
function answering(answer: (streamId: number, connection: RawConnection) => void) {
  return startRawH2Server((received, connection) => {
    if (received.type === FRAME.DATA && (received.flags & 1) === 1) answer(received.streamId, connection);
  });
}

describe('a response body cut short over HTTP/2 fails, as over HTTP/1.1', () => {
  const fates: Record<string, (id: number, connection: RawConnection) => void> = {
    'RST_STREAM NO_ERROR': (id, c) => c.send(rst(id, 0)),
    'RST_STREAM CANCEL': (id, c) => c.send(rst(id, 8)),
    'GOAWAY then FIN': (id, c) => {
      c.send(goawayFrame(id, 0));
      c.socket.end();
    },
    FIN: (_id, c) => c.socket.end(),
    'the socket destroyed': (_id, c) => c.socket.destroy(),
  };
  for (const withLength of [true, false]) {
    for (const [name, fate] of Object.entries(fates)) {
      it(`3 bytes${withLength ? ' of a content-length of 100' : ''}, then ${name}`, async () => {
        const server = await answering((id, c) => {
          const fields: Array<[string, string]> = [[':status', '200']];
          if (withLength) fields.push(['content-length', '100']);
          c.send(headers(id, fields), data(id, 'abc'));
          setTimeout(() => fate(id, c), 20);
        });
        const response = await upload(`${server.origin}/up`, { x: 'hello' }, { http2: true, retry: 0 });
        const error = await failure(response.text());
        expect(error.code).toBe('ERR_REQUEST_FAILED');
        expect(causeCode(error)).toBe('ECONNRESET');
      });
    }
  }

  it('a whole body (END_STREAM on DATA, or on HEADERS), and one that ends short of its content-length', async () => {
    const server = await answering((id, c) => {
      if (id === 1) c.send(headers(id, [[':status', '200']]), data(id, 'abc'), data(id, '', true));
      else if (id === 3) c.send(headers(id, [[':status', '200']], true));
      else c.send(headers(id, [[':status', '200']]), data(id, 'abc', true));
    });
    const url = `${server.origin}/up`;
    expect(await (await upload(url, { x: 'a' }, { http2: true })).text()).toBe('abc');
    expect(await (await upload(url, { x: 'b' }, { http2: true })).text()).toBe('');
    expect(await (await upload(url, { x: 'c' }, { http2: true })).text()).toBe('abc');
  });
});

describe('a protocol error the client catches settles every upload on the session', () => {
  const errors: Record<string, (id: number, c: RawConnection) => void> = {
    'DATA before HEADERS': (id, c) => c.send(data(id, 'x'), headers(id, [[':status', '200']]), data(id, 'ok', true)),
    'a PING of 3 bytes': (_id, c) => c.send(frame(FRAME.PING, 0, 0, Buffer.alloc(3))),
    'CONTINUATION without HEADERS': (id, c) => c.send(frame(9, 4, id, Buffer.from([0x88]))),
    'a SETTINGS ack with a payload': (_id, c) => c.send(frame(FRAME.SETTINGS, 1, 0, Buffer.alloc(6))),
    'a broken header block': (id, c) =>
      c.send(frame(FRAME.HEADERS, 5, id, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]))),
    'HEADERS on stream 0': (_id, c) => c.send(headers(0, [[':status', '200']], true)),
    'SETTINGS_ENABLE_PUSH of 2': (_id, c) => c.send(frame(FRAME.SETTINGS, 0, 0, Buffer.from([0, 2, 0, 0, 0, 2]))),
  };
  for (const [name, misbehave] of Object.entries(errors)) {
    it(`${name}: typed, blamed on the server's protocol error, and the next upload opens a new connection`, async () => {
      let broken = true;
      const server = await answering((id, c) => {
        if (broken) return misbehave(id, c);
        c.send(headers(id, [[':status', '200']]), data(id, 'fine', true));
      });
      const url = `${server.origin}/up`;
      const error = await failure(upload(url, { x: 'hello' }, { http2: true, retry: 0 }).then((r) => r.text()));
      expect(error.code).toBe('ERR_REQUEST_FAILED');
      expect(causeCode(error)).toBe('PROTOCOL_ERROR');
      expect(error.message).toMatch(
        /^the client closed the HTTP\/2 connection to .* on a protocol error by the server/,
      );
      broken = false;
      expect(await (await upload(url, { x: 'hello' }, { http2: true, retry: 0 })).text()).toBe('fine');
      expect(server.connections).toHaveLength(2);
    });
  }
});

describe('the server ends the connection', () => {
  it('with a FIN after each answer: an upload that races it is a connection reset, retried as over HTTP/1.1', async () => {
    const server = await answering((id, c) => {
      c.send(headers(id, [[':status', '200']]), data(id, 'ok', true));
      c.socket.end();
    });
    const url = `${server.origin}/up`;
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const settled = await upload(url, { x: 'hello' }, { http2: true, retry: 0 }).then(
        (response) => response.text(),
        (error: UploadError) => `${causeCode(error)} ${error.message}`,
      );
      outcomes.push(settled);
    }
    for (const outcome of outcomes)
      expect(outcome).toMatch(/^ok$|^ECONNRESET the HTTP\/2 connection to .* closed before an answer$/);
    for (let i = 0; i < 6; i++) {
      const response = await upload(
        url,
        { x: 'hello' },
        { http2: true, retry: { methods: ['POST'], backoff: () => 0 } },
      );
      expect(await response.text()).toBe('ok');
    }
  });

  it('with a FIN before its answer: a connection reset (ECONNRESET), retried as over HTTP/1.1, not a server reset', async () => {
    const server = await answering((id, c) => {
      if (server.connections.length === 1) return void c.socket.end();
      c.send(headers(id, [[':status', '200']]), data(id, 'ok', true));
    });
    const url = `${server.origin}/up`;
    const error = await failure(upload(url, { x: 'hello' }, { http2: true, retry: 0 }));
    expect(causeCode(error)).toBe('ECONNRESET');
    expect(error.message).not.toMatch(/reset/);
    const response = await upload(url, { x: 'hello' }, { http2: true, retry: { methods: ['POST'], backoff: () => 0 } });
    expect(await response.text()).toBe('ok');
  });
});

describe('a connect cancelled while it waits for the server SETTINGS', () => {
  it('is forgotten at once: the next acquire() connects anew, never joins the cancelled one', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket.on('error', () => {})));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    afterAll(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    const url = new URL(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/up`);
    const pool = testPool();
    const options = { mode: true as const, tls: undefined, tunnel: undefined };
    const first = new AbortController();
    const pending = pool.acquire(url, options, first.signal);
    while (sockets.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    first.abort(new Error('first gave up'));
    await expect(pending).rejects.toThrow('first gave up');
    const second = new AbortController();
    const next = pool.acquire(url, options, second.signal).then(
      () => undefined,
      (error: unknown) => error,
    );
    for (let turns = 0; sockets.length < 2 && turns < 2000; turns++) await new Promise((r) => setTimeout(r, 5));
    expect(sockets).toHaveLength(2);
    second.abort(new Error('second gave up'));
    expect(((await next) as Error).message).toBe('second gave up');
  });
});

describe('an answer HTTP/2 forbids (a 101, a 100 that ends the stream)', () => {
  for (const [name, answer] of [
    ['101', (id: number) => headers(id, [[':status', '101']])],
    ['100 with END_STREAM', (id: number) => headers(id, [[':status', '100']], true)],
  ] as const) {
    it(`${name}: PROTOCOL_ERROR, worded as either side's reset`, async () => {
      const server = await answering((id, c) => c.send(answer(id)));
      const error = await failure(upload(`${server.origin}/up`, { x: 'hello' }, { http2: true, retry: 0 }));
      expect(error.code).toBe('ERR_REQUEST_FAILED');
      expect(causeCode(error)).toBe('PROTOCOL_ERROR');
      expect(error.message).toMatch(
        /reset with PROTOCOL_ERROR \(by .*, or by the client on an answer HTTP\/2 forbids\)/,
      );
    });
  }
});

describe('progress under flow control', () => {
  it('a server that never opens its window: progress comes within a slice of the 65,535 bytes it let in, never past them', async () => {
    let received = 0;
    const server = await startRawH2Server(
      (got) => {
        if (got.type === FRAME.DATA) received += got.payload.length;
      },
      { initialWindow: 65535 },
    );
    const told: number[] = [];
    const abort = new AbortController();
    const pending = upload(
      `${server.origin}/up`,
      { f: Buffer.alloc(1024 * 1024, 1) },
      {
        http2: true,
        signal: abort.signal,
        onUploadProgress: (loaded) => void told.push(loaded),
      },
    ).catch((error: unknown) => error);
    await until(() => received === 65535 && (told.at(-1) ?? 0) >= 65535 - 16 * 1024);
    abort.abort();
    expect(((await pending) as UploadError).code).toBe('ERR_ABORTED');
    expect(told.at(-1)).toBeLessThanOrEqual(65535);
  });
});

/** An HPACK integer with a 7-bit prefix (RFC 7541 §5.1). */
function hpackInteger(value: number): Buffer {
  if (value < 127) return Buffer.from([value]);
  const bytes = [127];
  for (value -= 127; value >= 128; value >>= 7) bytes.push((value & 127) | 128);
  bytes.push(value);
  return Buffer.from(bytes);
}

/** A 200 with `fields`, a header block in HEADERS and as many CONTINUATION frames as it needs, then an empty body. */
function manyHeaders(streamId: number, fields: Array<[string, string]>): Buffer {
  const block = Buffer.concat([
    Buffer.from([0x88]), // :status 200
    ...fields.flatMap(([name, value]) => [
      Buffer.from([0]),
      hpackInteger(name.length),
      Buffer.from(name),
      hpackInteger(value.length),
      Buffer.from(value),
    ]),
  ]);
  const frames: Buffer[] = [];
  for (let at = 0; at < block.length; at += 16_384) {
    const last = at + 16_384 >= block.length;
    const piece = block.subarray(at, at + 16_384);
    frames.push(frame(at === 0 ? FRAME.HEADERS : 9, (last ? 4 : 0) | (at === 0 ? 1 : 0), streamId, piece));
  }
  return Buffer.concat(frames);
}

describe('an answer with more header fields than Node takes over HTTP/2 (127)', () => {
  const fields = (count: number): Array<[string, string]> => Array.from({ length: count }, (_, i) => [`x-h${i}`, 'v']);

  it('127 fields: the Response has them all', async () => {
    const server = await answering((id, c) => c.send(manyHeaders(id, fields(127))));
    const response = await upload(`${server.origin}/up`, { x: 'hello' }, { http2: true, retry: 0 });
    expect([...response.headers.keys()].filter((name) => name.startsWith('x-h'))).toHaveLength(127);
    expect(await response.text()).toBe('');
  });

  it("128 and 2,000 fields: ENHANCE_YOUR_CALM, worded as either side's reset (Node's own)", async () => {
    for (const count of [128, 2000]) {
      const server = await answering((id, c) => c.send(manyHeaders(id, fields(count))));
      const error = await failure(upload(`${server.origin}/up`, { x: 'hello' }, { http2: true, retry: 0 }));
      expect(error.code).toBe('ERR_REQUEST_FAILED');
      expect(causeCode(error)).toBe('ENHANCE_YOUR_CALM');
      expect(error.message).toMatch(
        /reset with ENHANCE_YOUR_CALM \(by .*, or by the client on an answer with more than 127 header fields\)/,
      );
    }
  });
});
