import { createReceiver, ReceiveError } from '../receiver/index.js';
import type { Io } from './send.js';
import type { ServeOptions } from './options.js';
import { SIGNAL_EXITS } from './signals.js';
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
    // Stopped by a signal, the command exits with the shell's code for it (130 for Ctrl-C), as the
    // other commands do: a script can tell a receiver that was stopped from one that ended.
    const stops = SIGNAL_EXITS.map(([signal, code]) => {
      const stop = () => {
        for (const [other, listener] of stops) process.off(other, listener);
        server.closeAllConnections();
        server.close(() => resolve(code));
      };
      process.once(signal, stop);
      return [signal, stop] as const;
    });
  });
}
