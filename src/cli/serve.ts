import { createReceiver, ReceiveError } from '../receiver/index.js';
import type { Io } from './send.js';
import type { ServeOptions } from './options.js';
import { visible } from '../common/visible.js';

/** The receiver command: runs until interrupted. */
export function serve(options: ServeOptions, io: Io): Promise<number> {
  const server = createReceiver({
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    ...(options.maxParts === undefined ? {} : { maxParts: options.maxParts }),
    ...(options.text ? { format: 'text' as const } : {}),
    // The log shows what a client sent (its path, a header line quoted in a refusal) with control characters escaped.
    onReport: (report) =>
      io.stderr.write(
        visible(
          `${report.method} ${report.path}: ${report.partCount} part(s), ${report.bytesReceived} bytes, ` +
            `${report.contentLength === null ? (report.chunked ? 'chunked' : 'no Content-Length') : report.lengthMatches ? 'Content-Length matches' : 'Content-Length DOES NOT MATCH'}`,
        ) + '\n',
      ),
    onError: (error, req) => {
      const { status, code } = error instanceof ReceiveError ? error : { status: 500, code: 'ERR_UNKNOWN' };
      io.stderr.write(`${visible(`${req.method} ${req.url}: ${status} ${code} ${error.message}`)}\n`);
    },
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(options.port, options.host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : options.port;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      io.stdout.write(`listening on http://${host}:${port}/\n`);
    });
    const stop = () => {
      server.closeAllConnections();
      server.close(() => resolve(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
