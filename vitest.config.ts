import { defineConfig } from 'vitest/config';
import { mimeTable } from './scripts/mime-table.mjs';

export default defineConfig({
  // What tsup puts in the build (src/mime.ts), for the tests that run the sources.
  define: { MIME_TABLE: JSON.stringify(mimeTable()) },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
