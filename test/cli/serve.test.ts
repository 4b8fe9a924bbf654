import { describe, expect, it } from 'vitest';
import { startServe } from '../helpers/cli.js';
import { close, exchange, FORM, part, request } from '../receiver/hostile.js';

/** The first `count` lines of the log, once it has them; a failure after `bound` ms. */
async function lines(log: () => string, count: number, bound = 10_000): Promise<string[]> {
  for (const deadline = Date.now() + bound; log().split('\n').length <= count;) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} log lines within ${bound} ms:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return log().split('\n').slice(0, count);
}

describe('multipart-poster serve', () => {
  it('its log shows what a client sent with every control character escaped, C1 as C0 and DEL', async () => {
    const serve = await startServe();
    const port = Number(new URL(serve.url).port);
    // Node refuses a path with control characters itself; a part's header line, quoted in a refusal, can hold them.
    const good = Buffer.concat([part(['Content-Disposition: form-data; name="a\u009b"'], 'x'), Buffer.from(close())]);
    const bad = Buffer.from(`--b0undary\r\nX-Bad\x9b\x85\x7f\x1b: y\r\n\r\nx\r\n${close()}`, 'latin1');
    expect((await exchange(port, [request('/one', FORM, good)], 'answer')).status).toBe(200);
    expect((await exchange(port, [request('/two', FORM, bad)], 'answer')).status).toBe(400);
    const [reported, refusal] = await lines(serve.log, 2);
    expect(reported).toMatch(/^POST \/one: 1 part\(s\)/);
    expect(refusal).toMatch(/^POST \/two: 400 ERR_MALFORMED_BODY .*X-Bad\\x9b\\x85\\x7f/);
    expect(serve.log().replace(/\n/g, '')).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('stopped by %s, it exits %i, as a shell reports the signal', async (signal, code) => {
    const serve = await startServe();
    const exited = new Promise<number | null>((resolve) => serve.child.once('exit', (status) => resolve(status)));
    serve.child.kill(signal);
    expect(await exited).toBe(code);
  });
});
