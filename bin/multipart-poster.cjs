#!/usr/bin/env node
'use strict';
// The command's entry: `--version` is answered here, before the command line and the library load
// (a start barely slower than node's own); everything else runs dist/cli.js.
if (process.argv.length === 3 && process.argv[2] === '--version') {
  process.stdout.write(`${require('../package.json').version}\n`);
} else {
  import('../dist/cli.js');
}
