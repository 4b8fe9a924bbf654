// `npm run typecheck` checks what tsconfig.json's `include` names: a pattern that matches no
// file (it once named bench/*.ts and examples/*.ts, where there are only .mjs files) checks nothing.
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/package.js';

describe('tsconfig.json', () => {
  it('has no include pattern that matches no file', () => {
    const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), undefined, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    });
    const include = (config?.raw as { include: string[] }).include;
    const files = (config?.fileNames ?? []).map((file) => file.slice(root.length + 1));
    const matchesNothing = include.filter((pattern) => {
      const [prefix = ''] = pattern.split('*');
      return !files.some((file) => file.startsWith(prefix));
    });
    expect(files.length).toBeGreaterThan(10);
    expect(matchesNothing).toEqual([]);
  });
});
