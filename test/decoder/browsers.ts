import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A form as a browser submits it: its Content-Type header and its body, byte for byte. */
export interface Submission {
  type: string;
  body: Buffer;
}

/**
 * The page a browser loads from 127.0.0.1: the script fills a form with what a browser must escape
 * (a quote, CR and LF in names, a lone CR and LF in a textarea, a filename with `"`, `\`, LF and
 * non-ASCII, binary file data holding CRLF and `--`) and submits it.
 */
export const FORM_PAGE = `<!doctype html><meta charset="utf-8"><form method="post" action="/submit" enctype="multipart/form-data">
<input name="plain" value="hello"><textarea name="lines"></textarea>
<input name='q"uote' value="naïve ☃"><input id="renamed" value="v"><input type="file" name="upload"><input type="file" name="empty"></form>
<script>
document.querySelector('textarea').value = 'one\\ntwo\\rthree\\r\\nfour';
document.getElementById('renamed').name = 'line\\nbreak\\rname';
const transfer = new DataTransfer();
transfer.items.add(new File(['data\\r\\n--tricky', new Uint8Array([0, 255, 13, 10])], 'a\\\\résumé "v2"\\n.txt', { type: 'text/plain' }));
document.querySelector('input[name=upload]').files = transfer.files;
document.querySelector('form').submit();
</script>`;

/** What the decoder must yield for FORM_PAGE's submission: name, filename, type, data as Latin-1. */
export const FORM_PARTS = [
  ['plain', undefined, undefined, 'hello'],
  ['lines', undefined, undefined, 'one\r\ntwo\r\nthree\r\nfour'],
  ['q"uote', undefined, undefined, Buffer.from('naïve ☃').toString('latin1')],
  ['line\r\nbreak\r\nname', undefined, undefined, 'v'],
  [
    'upload',
    'a\\résumé "v2"\n.txt',
    'text/plain',
    Buffer.concat([Buffer.from('data\r\n--tricky'), Buffer.from([0, 255, 13, 10])]).toString('latin1'),
  ],
  ['empty', '', 'application/octet-stream', ''],
];

/** How to start one browser: its argv for a profile folder and a URL, and its environment. */
export interface Browser {
  command: string;
  args(profile: string, url: string): string[];
  /** Writes what the browser needs in its profile folder before it starts. */
  prepare?(profile: string): void;
}

export const CHROMIUM: Browser = {
  command: 'chromium',
  args: (profile, url) => ['--headless=new', '--no-sandbox', '--disable-gpu', `--user-data-dir=${profile}`, url],
};

// Preferences that keep a fresh Firefox profile from reaching for the outside network (update,
// telemetry, safe browsing, captive portal checks) or opening a first-run page instead of ours.
const FIREFOX_PREFS = {
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.aboutwelcome.enabled': false,
  'browser.safebrowsing.update.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'extensions.update.enabled': false,
};

export const FIREFOX: Browser = {
  command: 'firefox-esr',
  args: (profile, url) => ['--headless', '--no-remote', '--profile', profile, url],
  prepare(profile) {
    const lines = Object.entries(FIREFOX_PREFS).map(
      ([key, value]) => `user_pref(${JSON.stringify(key)}, ${JSON.stringify(value)});`,
    );
    writeFileSync(join(profile, 'user.js'), lines.join('\n') + '\n');
  },
};

/** Stops a child and every process of its group (a browser's helpers); resolves once it is gone. */
export async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
  await gone;
}

/**
 * Serves FORM_PAGE on 127.0.0.1, lets `browser` load and submit it, and resolves with what it
 * posted; rejects when nothing comes within `timeoutMs` or the browser exits first. The browser,
 * its children, the server and the scratch folder are gone when the promise settles.
 */
export async function captureSubmission(browser: Browser, timeoutMs: number): Promise<Submission> {
  // Chromium keeps a socket in TMPDIR, whose path must be short (under 108 bytes).
  const scratch = mkdtempSync(join(tmpdir().length > 60 ? '/tmp' : tmpdir(), 'mpb-'));
  const server = http.createServer();
  let child: ChildProcess | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const submitted = new Promise<Submission>((resolve, reject) => {
      server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
        if (req.method === 'GET')
          return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(FORM_PAGE);
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('error', reject);
        req.on('end', () => {
          resolve({ type: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
          res.end('ok');
        });
      });
      timer = setTimeout(() => reject(new Error(`${browser.command} posted nothing in ${timeoutMs} ms`)), timeoutMs);
      server.listen(0, '127.0.0.1', () => {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        child = launch(browser, scratch, url);
        child.on('error', reject);
        child.on('exit', (code, signal) =>
          reject(new Error(`${browser.command} exited (${code ?? signal}) before posting the form`)),
        );
      });
    });
    return await submitted;
  } finally {
    clearTimeout(timer);
    if (child) await stopGroup(child);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(scratch, { recursive: true, force: true });
  }
}

function launch(browser: Browser, scratch: string, url: string): ChildProcess {
  const profile = join(scratch, 'profile');
  mkdirSync(profile);
  browser.prepare?.(profile);
  // HOME and TMPDIR in the scratch folder: the browser's caches and sockets go where we remove them.
  const env = { ...process.env, HOME: scratch, TMPDIR: scratch, MOZ_CRASHREPORTER_DISABLE: '1' };
  return spawn(browser.command, browser.args(profile, url), { stdio: 'ignore', detached: true, env });
}
