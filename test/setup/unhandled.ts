import { afterAll, expect } from 'vitest';

// Every promise chain must end in a handled path: any unhandled rejection during a test file fails it.
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

afterAll(() => {
  expect(unhandled, 'unhandled rejections').toEqual([]);
});
