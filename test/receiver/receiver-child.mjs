// A child process running the built createReceiver() with the options given as JSON in argv[2]:
// it prints its port on stdout, then one line per request on stderr, as `serve` logs them.
import { createReceiver } from '../../dist/receiver.js';

const server = createReceiver({
  ...JSON.parse(process.argv[2] ?? '{}'),
  onReport: (report) => process.stderr.write(`${report.method} ${report.path}: 200\n`),
  onError: (error, req) => process.stderr.write(`${req.method} ${req.url}: ${error.status ?? 500} ${error.message}\n`),
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.once('SIGTERM', () => process.exit(0));
