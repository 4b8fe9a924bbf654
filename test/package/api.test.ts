// The public API only grows: the exported names and types of dist/index.d.ts, dist/receiver.d.ts
// and dist/form-data.d.ts (and their .d.cts twins) against test/package/api-snapshot.txt, one line per
// export, member, overload and union member (scripts/api-snapshot.mjs). A line that went away is a
// breaking change; a new line is an addition to record: CONTRIBUTING.md says how.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiLines, compareApi, currentApi, recordedApi } from '../../scripts/api-snapshot.mjs';
import { tempDir } from '../helpers/files.js';

const UPDATE = 'npm run build && node scripts/api-snapshot.mjs --write (see CONTRIBUTING.md)';

describe('the public API', () => {
  it('keeps every name and type of the snapshot (nothing removed or changed)', () => {
    const { removed } = compareApi();
    expect(removed, 'these lines of test/package/api-snapshot.txt are gone from the build').toEqual([]);
  });

  it('has no addition that the snapshot does not record', () => {
    const { added } = compareApi();
    expect(added, `record intended additions with: ${UPDATE}`).toEqual([]);
  });

  it('is the same for CommonJS (.d.cts) as for ESM (.d.ts)', () => {
    expect(currentApi('.d.cts')).toEqual(currentApi('.d.ts'));
  });

  it('covers both entry points and the exports a user reaches first', () => {
    const recorded = recordedApi();
    for (const line of [
      'multipart-poster multipartEncode: function multipartEncode(params: ParamsInput, options?: EncodeOptions): Promise<EncodedForm>',
      'multipart-poster MultipartError: class extends Error',
      "multipart-poster UploadErrorCode: type = one of 'ERR_TIMEOUT'",
      'multipart-poster/receiver createReceiver: function createReceiver(options?: ReceiverOptions): Server',
    ])
      expect(recorded).toContain(line);
  });
});

describe('the snapshot lines', () => {
  const lines = (declarations: string) => {
    const file = join(tempDir(), 'api.d.ts');
    writeFileSync(file, declarations);
    return apiLines('pkg', file);
  };

  it('turn a widened option, a new union member or a new export into added lines only', () => {
    const before = lines(
      "interface Options { agent?: Agent; mode?: 'a' | 'b' }\ndeclare function f(o?: Options): void;\nexport { type Options, f };",
    );
    const after = lines(
      "interface Options { agent?: Agent | ((url: URL) => Agent); mode?: 'a' | 'b' | 'c'; extra?: number }\n" +
        'declare function f(o?: Options): void;\ndeclare function g(): void;\nexport { type Options, f, g };',
    );
    const { removed, added } = compareApi(before, after);
    expect(removed).toEqual(['pkg Options: interface member agent?: Agent']);
    expect(added).toEqual(
      expect.arrayContaining([
        'pkg Options: interface member agent?: one of Agent',
        'pkg Options: interface member agent?: one of ((url: URL) => Agent)',
        "pkg Options: interface member mode?: one of 'c'",
        'pkg Options: interface member extra?: number',
        'pkg g: function g(): void',
      ]),
    );
  });

  it('turn a removed export, a changed type or a narrowed union into removed lines', () => {
    const before = lines(
      "type Code = 'A' | 'B';\ninterface O { size: number }\ndeclare function f(): void;\nexport { type Code, type O, f };",
    );
    const after = lines("type Code = 'A';\ninterface O { size: string }\nexport { type Code, type O };");
    expect(compareApi(before, after).removed).toEqual(
      [
        "pkg Code: type = one of 'B'",
        "pkg Code: type = one of 'A'",
        'pkg O: interface member size: number',
        'pkg f: function f(): void',
      ].sort(),
    );
  });

  it('leave out private members and comments, and mark declarations that are used but not exported', () => {
    const result = lines(
      '/** doc */\ndeclare class C {\n  #secret;\n  private hidden;\n  /** the size */\n  readonly size: Inner;\n}\n' +
        'interface Inner { n: number }\nexport { C };',
    );
    expect(result).toEqual([
      'pkg C: class',
      'pkg C: class member readonly size: Inner',
      'pkg Inner (not exported): interface',
      'pkg Inner (not exported): interface member n: number',
    ]);
  });
});
