import { afterAll, expect, onTestFinished } from 'vitest';

/**
 * Runs `clean` when the test that called this ends or, called outside a test, when the file's
 * tests end: vitest ignores an `afterAll` registered inside a test, and a child process started
 * there would outlive the run.
 */
export function cleanUpAfter(clean: () => unknown): void {
  if (expect.getState().currentTestName === undefined) afterAll(async () => void (await clean()));
  else onTestFinished(async () => void (await clean()));
}
