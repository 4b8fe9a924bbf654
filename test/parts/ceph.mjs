import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A throw-away Ceph cluster on 127.0.0.1, for the S3 interop tests: one monitor, one OSD keeping
 * its objects in memory (memstore), no authentication between the daemons, pools of size 1, and
 * the Object Gateway (radosgw, beast) on a free port, with an S3 user and a bucket. Everything
 * lives in a temporary directory, removed by stop(); every daemon runs in the foreground as a
 * child of this process and is killed by its id.
 */

const READY_TIMEOUT_MS = 120_000;

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(() => resolve()));
  return port;
}

function config(dir, monPort, rgwPort, memory) {
  return `[global]
fsid = ${randomUUID()}
mon host = 127.0.0.1:${monPort}
mon initial members = a
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
osd objectstore = memstore
memstore device bytes = ${memory}
osd crush chooseleaf type = 0
rgw gc obj min wait = 0
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
mon data = ${dir}/mon/$cluster-$id
osd data = ${dir}/osd/$cluster-$id
keyring = ${dir}/keyring
[client.rgw.test]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
`;
}

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`);
  return result.stdout;
}

/** Starts the cluster; resolves once the gateway answers, with an S3 user. */
export async function startCeph({ memoryBytes = 3 * 1024 ** 3 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ceph-'));
  const daemons = [];
  const stop = async () => {
    for (const daemon of daemons.reverse()) daemon.kill('SIGKILL');
    await Promise.all(
      daemons.map((d) =>
        d.exitCode !== null || d.signalCode !== null ? undefined : new Promise((r) => d.once('exit', r)),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const sub of ['run', 'log', 'mon', 'osd/ceph-0']) mkdirSync(join(dir, sub), { recursive: true });
    const [monPort, rgwPort] = [await freePort(), await freePort()];
    const conf = join(dir, 'ceph.conf');
    writeFileSync(conf, config(dir, monPort, rgwPort, memoryBytes));
    const fsid = /fsid = (\S+)/.exec(readFileSync(conf, 'utf8'))[1];
    run('monmaptool', ['--create', '--add', 'a', `127.0.0.1:${monPort}`, '--fsid', fsid, join(dir, 'monmap')]);
    run('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '-c', conf]);
    const daemon = (command, args) => {
      const child = spawn(command, [...args, '-f', '-c', conf], { stdio: 'ignore' });
      child.on('error', () => {});
      daemons.push(child);
    };
    daemon('ceph-mon', ['-i', 'a']);
    run('ceph', ['-c', conf, '--connect-timeout', '30', 'osd', 'create']);
    run('ceph-osd', ['-i', '0', '--mkfs', '-c', conf]);
    daemon('ceph-osd', ['-i', '0']);
    daemon('radosgw', ['-n', 'client.rgw.test']);
    await waitForGateway(rgwPort);
    const accessKeyId = 'TESTACCESSKEY';
    const secretAccessKey = 'testsecretkey';
    run('radosgw-admin', [
      '-c',
      conf,
      'user',
      'create',
      '--uid',
      'test',
      '--display-name',
      'test',
      '--access-key',
      accessKeyId,
      '--secret',
      secretAccessKey,
    ]);
    // The data of deleted objects stays in the OSD's memory until the gateway's garbage collector runs.
    const collectGarbage = () => void run('radosgw-admin', ['-c', conf, 'gc', 'process', '--include-all']);
    return {
      collectGarbage,
      endpoint: `http://127.0.0.1:${rgwPort}`,
      accessKeyId,
      secretAccessKey,
      region: 'us-east-1',
      bucket: 'parts',
      stop,
    };
  } catch (error) {
    const log = (name) => {
      try {
        return readFileSync(join(dir, 'log', name), 'utf8')
          .split('\n')
          .slice(-15)
          .join('\n');
      } catch {
        return '(no log)';
      }
    };
    const logs = `radosgw:\n${log('client.rgw.test.log')}\nosd:\n${log('osd.0.log')}`;
    await stop();
    throw new Error(`the Ceph cluster did not start: ${error.message}\n${logs}`, { cause: error });
  }
}

async function waitForGateway(port) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      await response.arrayBuffer();
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`radosgw did not answer on 127.0.0.1:${port} within ${READY_TIMEOUT_MS} ms`);
}
