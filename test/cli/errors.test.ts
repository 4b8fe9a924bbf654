import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify, CliError, EXIT } from '../../src/cli/errors.js';
import { MultipartError, UploadError, type MultipartErrorCode, type UploadErrorCode } from '../../src/index.js';
import { root } from '../helpers/cli.js';

/** An error as another copy of the library would make it: same name and code, another class. */
function foreign(name: string, code: string, message = 'from another copy'): Error {
  return Object.assign(new Error(message), { name, code });
}

describe('library errors map to exit codes by their code', () => {
  const multipart: Array<[MultipartErrorCode, number]> = [
    ['ERR_INVALID_BOUNDARY', 2],
    ['ERR_BOUNDARY_IN_DATA', 2],
    ['ERR_INVALID_NAME', 2],
    ['ERR_INVALID_VALUE', 2],
    ['ERR_INVALID_HEADER_VALUE', 2],
    ['ERR_VALUE_AND_FILEOBJ', 2],
    ['ERR_INVALID_PARAMS', 2],
    ['ERR_INVALID_OPTION', 2],
    ['ERR_FILE_UNREADABLE', 26],
    ['ERR_SIZE_MISMATCH', 26],
    ['ERR_SOURCE_CONSUMED', 26],
    ['ERR_SOURCE_FAILED', 26],
    ['ERR_SIZE_UNKNOWN', 1],
    ['ERR_NOT_IN_MEMORY', 1],
    ['ERR_CALLBACK_FAILED', 1],
  ];
  const upload: Array<[UploadErrorCode, number]> = [
    ['ERR_INVALID_URL', 2],
    ['ERR_INVALID_OPTION', 2],
    ['ERR_INVALID_HEADER', 2],
    ['ERR_TIMEOUT', 28],
    ['ERR_TOO_MANY_REDIRECTS', 47],
    ['ERR_UNEXPECTED_RESPONSE', 56],
    ['ERR_SIZE_MISMATCH', 26],
    ['ERR_BODY_NOT_REPLAYABLE', 1],
    ['ERR_ABORTED', 1],
    ['ERR_CALLBACK_FAILED', 1],
    ['ERR_REQUEST_FAILED', 56], // with no network cause
  ];

  it.each(multipart)('MultipartError %s exits %i', (code, exit) => {
    expect(EXIT[classify(new MultipartError(code, 'the message', { paramName: 'f' })).kind]).toBe(exit);
    expect(EXIT[classify(foreign('MultipartError', code)).kind]).toBe(exit);
  });

  it.each(upload)('UploadError %s exits %i', (code, exit) => {
    expect(EXIT[classify(new UploadError(code, 'the message', { url: 'http://example.test/' })).kind]).toBe(exit);
    expect(EXIT[classify(foreign('UploadError', code)).kind]).toBe(exit);
  });

  it('keeps the message as it is', () => {
    expect(classify(new UploadError('ERR_UNEXPECTED_RESPONSE', 'the server answered 101 Switching Protocols'))).toEqual(
      {
        kind: 'receive',
        message: 'the server answered 101 Switching Protocols',
      },
    );
    expect(classify(new MultipartError('ERR_SOURCE_FAILED', 'boom', { paramName: 'f' }))).toEqual({
      kind: 'read',
      message: 'field "f": boom',
    });
  });

  it('a code it does not know is "another failure" (1), never usage or success', () => {
    expect(classify(foreign('MultipartError', 'ERR_SOMETHING_NEW')).kind).toBe('failure');
    expect(classify(foreign('UploadError', 'ERR_SOMETHING_NEW')).kind).toBe('failure');
    expect(classify(foreign('TypeError', 'ERR_INVALID_OPTION')).kind).toBe('failure'); // not the library's
    expect(classify('a string').kind).toBe('failure');
  });

  it.each([
    ['ECONNREFUSED', 'connect', 'could not connect to 127.0.0.1:9: ECONNREFUSED'],
    ['EHOSTUNREACH', 'connect', 'could not connect to 127.0.0.1:9: EHOSTUNREACH'],
    ['ENOTFOUND', 'resolve', 'could not resolve host 127.0.0.1'],
    ['ECONNRESET', 'send', 'the connection to 127.0.0.1:9 was reset: ECONNRESET'],
    ['EPIPE', 'send', 'the connection to 127.0.0.1:9 was reset: EPIPE'],
    [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'certificate',
      'the certificate of 127.0.0.1:9 is not trusted: bad cert (use --cacert or --insecure)',
    ],
    ['EWHATEVER', 'receive', 'request failed'],
  ])('ERR_REQUEST_FAILED caused by %s: %s', (code, kind, message) => {
    const cause = Object.assign(new Error('bad cert'), { code });
    expect(
      classify(new UploadError('ERR_REQUEST_FAILED', 'request failed', { url: 'http://127.0.0.1:9/x', cause })),
    ).toEqual({ kind, message });
  });

  it('ERR_REQUEST_FAILED caused by a library error is classified by that error; a bad url does not throw', () => {
    const cause = new MultipartError('ERR_SIZE_MISMATCH', 'changed size', { paramName: 'f' });
    expect(classify(new UploadError('ERR_REQUEST_FAILED', 'failed', { url: 'http://127.0.0.1:9/', cause })).kind).toBe(
      'read',
    );
    const refused = Object.assign(new Error('x'), { code: 'ECONNREFUSED' });
    expect(classify(new UploadError('ERR_REQUEST_FAILED', 'failed', { url: 'not a url', cause: refused }))).toEqual({
      kind: 'connect',
      message: 'could not connect to the server: ECONNREFUSED',
    });
  });

  it('CliError keeps its kind', () => {
    expect(classify(new CliError('write', 'cannot write out'))).toEqual({ kind: 'write', message: 'cannot write out' });
  });
});

describe('the CLI uses the library only through its public entry points', () => {
  const cliDir = join(root, 'src', 'cli');
  const sources = readdirSync(cliDir).filter((file) => file.endsWith('.ts'));

  it.each(sources)('src/cli/%s imports nothing of the library but ../index.js and ../receiver/index.js', (file) => {
    const text = readFileSync(join(cliDir, file), 'utf8');
    const specifiers = [
      ...text.matchAll(
        /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
      ),
    ].map((m) => m[1] ?? m[2]!);
    const library = specifiers.filter((s) => s.startsWith('..'));
    for (const specifier of library)
      expect(['../index.js', '../receiver/index.js'], `${file} imports ${specifier}`).toContain(specifier);
  });

  it('dist/cli.js imports ./index.js and bundles no copy of the library', () => {
    const cli = readFileSync(join(root, 'dist', 'cli.js'), 'utf8');
    expect(cli).toMatch(/from "\.\/index\.js"/);
    // Classes only the library defines: a second copy would make errors and bodies of another identity.
    for (const name of ['MultipartParam', 'UploadBody', 'MultipartError', 'UploadError', 'BlockPool']) {
      expect(cli, name).not.toMatch(new RegExp(`class ${name}\\b`));
    }
  });
});
