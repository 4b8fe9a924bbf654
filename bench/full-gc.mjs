// A full garbage collection on demand, without starting node with --expose-gc: the loop workloads
// collect what the process made before the clock starts (start-up, module loading, the harness's
// own set-up), for every subject alike, so that V8's first mark-compact, which that garbage brings
// on, does not land inside the measured window of whichever subject runs (see bench/README.md).
// Bun (the FETCH workload runs under it too) has no V8 flags: it collects with Bun.gc(true).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const collect = globalThis.Bun
  ? () => globalThis.Bun.gc(true)
  : (() => {
      setFlagsFromString('--expose-gc');
      return runInNewContext('gc');
    })();

export function collectBeforeTheClock() {
  collect();
}
