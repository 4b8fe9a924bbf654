// @tus/server with @tus/file-store in a process of its own, for bench/parts.mjs's pinned tus rows:
// `node bench/tus-server.mjs DIRECTORY` prints its port, then serves until its stdin closes.
import http from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const tus = new Server({ path: '/files', datastore: new FileStore({ directory: process.argv[2] }) });
const server = http.createServer((req, res) => void tus.handle(req, res).catch(() => res.destroy()));
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.on('end', () => process.exit(0)).resume();
