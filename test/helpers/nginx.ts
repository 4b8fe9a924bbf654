import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { tempDir } from './files.js';
import { freePort } from './raw-server.js';

const tlsDir = join(import.meta.dirname, '..', '..', 'fixtures', 'tls');

export interface Nginx {
  /** https://127.0.0.1:PORT */
  origin: string;
  port: number;
  /** The access log so far, one line per request: `$server_protocol $request_method $uri $status $connection auth=$http_authorization`. */
  accessLog(): string[];
  errorLog(): string;
}

/** Waits until something accepts connections on the port; at most ~10 s, then fails naming the error log. */
async function reachable(port: number, errorLog: () => string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nginx did not start on port ${port}:\n${errorLog()}`);
}

/**
 * Debian's nginx in the foreground (one process, no master) on 127.0.0.1 with `http2` on TLS (the
 * test CA's certificate), every path under a temporary directory, stopped after the test file.
 * `locations(port)` is the server block's body (location blocks), given the port nginx listens on.
 */
export async function startNginx(locations: (port: number) => string): Promise<Nginx> {
  const dir = tempDir();
  const port = await freePort();
  const path = (name: string) => join(dir, name);
  writeFileSync(
    path('nginx.conf'),
    `daemon off;
master_process off;
worker_processes 1;
pid ${path('nginx.pid')};
error_log ${path('error.log')} info;
events { worker_connections 1024; }
http {
  log_format protocol '$server_protocol $request_method $uri $status $connection auth=$http_authorization';
  access_log ${path('access.log')} protocol;
  client_body_temp_path ${path('body')};
  proxy_temp_path ${path('proxy')};
  fastcgi_temp_path ${path('fastcgi')};
  uwsgi_temp_path ${path('uwsgi')};
  scgi_temp_path ${path('scgi')};
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${join(tlsDir, 'server.crt')};
    ssl_certificate_key ${join(tlsDir, 'server.key')};
${locations(port)}
  }
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', path('nginx.conf'), '-e', path('error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const read = (name: string) => {
    try {
      return readFileSync(path(name), 'utf8');
    } catch {
      return '';
    }
  };
  afterAll(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  await reachable(port, () => `${stderr}${read('error.log')}`);
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    accessLog: () => read('access.log').split('\n').filter(Boolean),
    errorLog: () => read('error.log'),
  };
}
