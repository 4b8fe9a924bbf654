import { spawnSync } from 'node:child_process';

/** The programs that interop tests run, and how a Debian machine gets each (`.ci/run` installs them all). */
export const INTEROP_TOOLS = {
  go: 'apt-get install golang-go',
  python3: 'apt-get install python3',
  curl: 'apt-get install curl',
  script: 'apt-get install bsdutils',
  nginx: 'apt-get install nginx-light',
  chromium: 'apt-get install chromium',
  'firefox-esr': 'apt-get install firefox-esr',
  // A throw-away Ceph cluster whose Object Gateway speaks S3 (test/parts/ceph.mjs).
  'ceph-mon': 'apt-get install ceph-mon',
  'ceph-osd': 'apt-get install ceph-osd',
  monmaptool: 'apt-get install ceph-base',
  radosgw: 'apt-get install radosgw',
  'radosgw-admin': 'apt-get install ceph-common',
  ceph: 'apt-get install ceph-common',
} as const satisfies Record<string, string>;

export type InteropTool = keyof typeof INTEROP_TOOLS;

/** The tools of INTEROP_TOOLS that are not on PATH. */
export function missingTools(): InteropTool[] {
  return (Object.keys(INTEROP_TOOLS) as InteropTool[]).filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
  );
}

/** Throws, naming each missing tool and the command that installs it: interop tests never skip. */
export function requireTools(tools: readonly InteropTool[] = missingTools()): void {
  const missing = tools.filter((tool) => missingTools().includes(tool));
  if (missing.length === 0) return;
  const lines = missing.map((tool) => `  ${tool}: ${INTEROP_TOOLS[tool]}`);
  throw new Error(`npm run test:interop needs programs that are not installed:\n${lines.join('\n')}`);
}
