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
    ['ERR_SPOOL_LIMIT', 26],
    ['ERR_SPOOL_FAILED', 23],
    ['ERR_SIZE_UNKNOWN', 1],
    ['ERR_NOT_IN_MEMORY', 1],
    ['ERR_CALLBACK_FAILED', 1],
  ];
  const upload: Array<[UploadErrorCode, number]> = [
    ['ERR_INVALID_URL', 3],
    ['ERR_INVALID_OPTION', 2],
    ['ERR_INVALID_HEADER', 2],
    ['ERR_TIMEOUT', 28],
    ['ERR_TOO_MANY_REDIRECTS', 47],
    ['ERR_UNEXPECTED_RESPONSE', 56],
    ['ERR_SIZE_MISMATCH', 26],
    ['ERR_BODY_NOT_REPLAYABLE', 1],
    ['ERR_RUNTIME_UNSUPPORTED', 1],
    ['ERR_ABORTED', 1],
    ['ERR_CALLBACK_FAILED', 1],
    ['ERR_REQUEST_FAILED', 52], // with no network cause: the connection closed before any answer
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
    [{ code: 'ECONNREFUSED', syscall: 'connect' }, 'connect', 'could not connect to 127.0.0.1:9: ECONNREFUSED'],
    [{ code: 'EHOSTUNREACH', syscall: 'connect' }, 'connect', 'could not connect to 127.0.0.1:9: EHOSTUNREACH'],
    [{ code: 'ETIMEDOUT', syscall: 'connect' }, 'connect', 'could not connect to 127.0.0.1:9: ETIMEDOUT'],
    [{ code: 'ENOTFOUND' }, 'resolve', 'could not resolve host 127.0.0.1'],
    [{ code: 'EAI_AGAIN' }, 'resolve', 'could not resolve host 127.0.0.1'],
    [
      { code: 'ECONNRESET', message: 'socket hang up' },
      'emptyReply',
      'empty reply: 127.0.0.1:9 closed the connection without answering',
    ],
    [
      { code: 'ECONNRESET', syscall: 'read' },
      'receive',
      'the connection to 127.0.0.1:9 was reset while receiving: ECONNRESET',
    ],
    [
      { code: 'ECONNRESET', syscall: 'write' },
      'send',
      'the connection to 127.0.0.1:9 was reset while sending: ECONNRESET',
    ],
    [{ code: 'EPIPE', syscall: 'write' }, 'send', 'the connection to 127.0.0.1:9 was reset while sending: EPIPE'],
    [
      { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
      'certificate',
      'the certificate of 127.0.0.1:9 is not trusted: the cause (use --cacert or --insecure)',
    ],
    [
      {
        code: 'EPROTO',
        message:
          'write EPROTO 809C888F857F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n',
      },
      'tls',
      'the TLS handshake with 127.0.0.1:9 failed: wrong version number (does the server speak TLS there? If not, the URL is http://127.0.0.1:9)',
    ],
    [
      {
        code: 'ERR_SSL_INTERNAL_ERROR',
        message:
          'C0DC0FA1607F0000:error:0A0C0103:SSL routines:tls_default_read_n:internal error:../deps/openssl/openssl/ssl/record/methods/tls_common.c:378:\n',
      },
      'tls',
      'the TLS handshake with 127.0.0.1:9 failed: internal error (does the server speak TLS there? If not, the URL is http://127.0.0.1:9)',
    ],
    [{ code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' }, 'tls', 'the TLS handshake with 127.0.0.1:9 failed: the cause'],
    [
      { code: 'HPE_INVALID_CONSTANT', message: 'Parse Error: Expected HTTP/' },
      'unsupported',
      'the answer of 127.0.0.1:9 is not HTTP/1.x: Parse Error: Expected HTTP/ (HPE_INVALID_CONSTANT)',
    ],
    [
      { code: 'HPE_INVALID_HEADER_TOKEN', message: 'Parse Error: Invalid header token' },
      'weirdReply',
      'the answer of 127.0.0.1:9 is not valid HTTP: Parse Error: Invalid header token (HPE_INVALID_HEADER_TOKEN)',
    ],
    [{ code: 'EWHATEVER' }, 'receive', 'the exchange with 127.0.0.1:9 failed: the cause (EWHATEVER)'],
  ])('ERR_REQUEST_FAILED caused by %j: %s', (fields, kind, message) => {
    const cause = Object.assign(new Error('the cause'), fields);
    expect(
      classify(new UploadError('ERR_REQUEST_FAILED', 'request failed', { url: 'http://127.0.0.1:9/x', cause })),
    ).toEqual({ kind, message });
  });

  it('a failure to reach a proxy names the proxy, not the target', () => {
    const route = (url: string) => (url.startsWith('http://target.test') ? 'http://127.0.0.1:3128/' : undefined);
    const failed = (code: string) =>
      new UploadError('ERR_REQUEST_FAILED', 'failed', {
        url: 'http://target.test/upload',
        cause: Object.assign(new Error('x'), { code, syscall: 'connect' }),
      });
    expect(classify(failed('ECONNREFUSED'), route)).toEqual({
      kind: 'connect',
      message: 'could not connect to proxy 127.0.0.1:3128: ECONNREFUSED',
    });
    expect(classify(failed('ENOTFOUND'), route)).toEqual({
      kind: 'resolveProxy',
      message: 'could not resolve proxy 127.0.0.1',
    });
    expect(classify(failed('ECONNREFUSED'))).toEqual({
      kind: 'connect',
      message: 'could not connect to target.test: ECONNREFUSED',
    });
  });

  it('ERR_REQUEST_FAILED caused by a library error is classified by that error; a bad url does not throw', () => {
    const cause = new MultipartError('ERR_SIZE_MISMATCH', 'changed size', { paramName: 'f' });
    expect(classify(new UploadError('ERR_REQUEST_FAILED', 'failed', { url: 'http://127.0.0.1:9/', cause })).kind).toBe(
      'read',
    );
    const refused = Object.assign(new Error('x'), { code: 'ECONNREFUSED', syscall: 'connect' });
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
  /** Modules of src/common/ that tsup.config.ts lets the CLI bundle a copy of. */
  const pure = ['../common/http2-codes.js', '../common/media-type.js', '../common/messages.js', '../common/visible.js'];
  const importsOf = (text: string) =>
    [
      ...text.matchAll(
        /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
      ),
    ].map((m) => m[1] ?? m[2]!);

  it.each(sources)(
    'src/cli/%s imports nothing of the library but ../index.js, ../receiver/index.js and pure modules',
    (file) => {
      const library = importsOf(readFileSync(join(cliDir, file), 'utf8')).filter((s) => s.startsWith('..'));
      for (const specifier of library)
        expect(['../index.js', '../receiver/index.js', ...pure], `${file} imports ${specifier}`).toContain(specifier);
    },
  );

  it.each(pure)('%s, bundled into dist/cli.js, imports nothing and defines no class or state', (specifier) => {
    const text = readFileSync(join(cliDir, specifier.replace(/\.js$/, '.ts')), 'utf8');
    expect(importsOf(text)).toEqual([]);
    expect(text).not.toMatch(/\bclass\b|^(let|var)\b/m);
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
