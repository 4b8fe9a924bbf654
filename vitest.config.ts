import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { mimeTable } from './scripts/mime-table.mjs';

const INTEROP = 'test/**/*.interop.test.ts';
/** Tests that run the build (dist/) in child processes or as a package: not in the fast unit run. */
const NEEDS_BUILD = ['test/cli/**', 'test/package/**', 'test/docs/**', 'test/receiver/**', 'test/**/*.built.test.ts'];

function project(name: string, include: string[], exclude: string[], globalSetup: string[] = []) {
  const setupFiles = ['test/setup/unhandled.ts'];
  return {
    extends: true,
    test: { name, include, exclude, setupFiles, globalSetup: ['test/setup/temp-dir.ts', ...globalSetup] },
  } satisfies TestProjectInlineConfiguration;
}

export default defineConfig({
  // What tsup puts in the build (src/multipart/mime.ts), for the tests that run the sources.
  define: { MIME_TABLE: JSON.stringify(mimeTable()) },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      // `npm test`: everything that needs nothing but Node and npm.
      project('main', ['test/**/*.test.ts'], [INTEROP]),
      // `npm run test:unit`: the sources alone, no build.
      project('unit', ['test/**/*.test.ts'], [INTEROP, ...NEEDS_BUILD]),
      // `npm run test:interop`: against other programs (Go, Python, curl, Bun, Deno...).
      project('interop', [INTEROP], [], ['test/setup/interop.ts']),
    ],
  },
});
