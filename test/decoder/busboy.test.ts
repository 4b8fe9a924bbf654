import busboy from 'busboy';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { multipartDecode } from '../../src/decoder/decode.js';
import { B, base, edit, TOKENS, type Edit } from './mutations.js';

// Differential: the decoder against busboy (npm), the parser most Node servers use, on bodies
// mutated from a valid form. Where both accept, every part busboy gives is given the same by the
// decoder. Where they differ, the difference is one of the documented classes (docs/decoder.md).

// busboy reads an empty name or filename (`name=""`) as none: both are compared as ''.
type Parsed = { parts: [name: string, filename: string, data: string][] } | { error: string };

function viaBusboy(body: Buffer): Promise<Parsed> {
  return new Promise((resolve) => {
    const parser = busboy({
      headers: { 'content-type': `multipart/form-data; boundary=${B}` },
      preservePath: true,
      defParamCharset: 'utf8',
      defCharset: 'latin1',
      limits: { fieldSize: Infinity, headerPairs: 2000 },
    });
    const parts: [string, string, string][] = [];
    const pending: Promise<void>[] = [];
    parser.on('field', (name, value) => void parts.push([name ?? '', '', value]));
    parser.on('file', (name, stream, info) => {
      const index = parts.push([name ?? '', info.filename ?? '', '']) - 1;
      const chunks: Buffer[] = [];
      stream.on('error', () => {});
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      pending.push(
        new Promise((done) =>
          stream.on('close', () => ((parts[index]![2] = Buffer.concat(chunks).toString('latin1')), done())),
        ),
      );
    });
    // busboy never settles on some bodies (see 'hangs' below): a bound, not a timing assertion.
    const timer = setTimeout(() => resolve({ error: 'never settles' }), 2000);
    parser.on('close', () => void Promise.all(pending).then(() => (clearTimeout(timer), resolve({ parts }))));
    parser.on('error', (error: Error) => (clearTimeout(timer), resolve({ error: error.message })));
    Readable.from([body]).pipe(parser);
  });
}

async function viaDecoder(body: Buffer): Promise<Parsed & { dispositions?: string[]; code?: string }> {
  const parts: [string, string, string][] = [];
  const dispositions: string[] = [];
  try {
    for await (const part of multipartDecode([body], { boundary: B })) {
      const disposition = part.rawHeaders.find(([name]) => name.toLowerCase() === 'content-disposition')?.[1] ?? '';
      const data = Buffer.from(await part.bytes({ maxBytes: Infinity })).toString('latin1');
      // busboy gives only form-data parts; the decoder gives every part.
      if (!/^\s*form-data\s*(;|$)/i.test(disposition)) continue;
      parts.push([part.name ?? '', part.filename ?? '', data]);
      dispositions.push(disposition);
    }
    return { parts, dispositions };
  } catch (error) {
    return { error: (error as Error).message, code: (error as { code: string }).code };
  }
}

/** A Content-Disposition busboy reads: `form-data` then `; key=value` pairs, no space around `=`. */
const BUSBOY_READABLE =
  /^form-data(?:;[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+=(?:"[^"\\\0]*"|[!#$%&'*+.^_`|~0-9A-Za-z-]+))*[ \t]*$/i;

/** Whether `sub` is `full` with some entries left out. */
function isSubsequence<T>(sub: T[], full: T[], same: (a: T, b: T) => boolean): boolean {
  let at = 0;
  for (const item of full) if (at < sub.length && same(sub[at]!, item)) at++;
  return at === sub.length;
}

/** The documented class of a pair of outcomes; throws on an undocumented difference. */
function classify(body: Buffer, ours: Awaited<ReturnType<typeof viaDecoder>>, theirs: Parsed): string {
  if ('error' in ours && 'error' in theirs) return 'both refuse';
  if ('parts' in ours && 'parts' in theirs) {
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (JSON.stringify(ours.parts) === JSON.stringify(theirs.parts)) return 'agree';
    // A backslash in a quoted name or filename is a plain character to browsers (WHATWG) and to the
    // decoder; busboy reads it as an escape (`filename="C:\\x"` is `C:x` to it).
    const unescaped = ours.parts.map(([name, filename, data]) => [
      name.replace(/\\(.)/g, '$1'),
      filename.replace(/\\(.)/g, '$1'),
      data,
    ]);
    if (
      ours.dispositions!.some((d) => d.includes('\\')) &&
      JSON.stringify(unescaped) === JSON.stringify(theirs.parts)
    ) {
      return 'busboy reads a backslash as an escape';
    }
    // busboy drops a part whose Content-Disposition it cannot read (`name= "a"`, `name="a"b`): the decoder reads it.
    const dropped = ours.parts
      .map((part, i) => [part, ours.dispositions![i]!] as const)
      .filter(([part]) => !theirs.parts.some((p) => same(p, part)));
    if (
      isSubsequence(theirs.parts, ours.parts, same) &&
      dropped.every(([, disposition]) => !BUSBOY_READABLE.test(disposition))
    )
      return 'busboy drops a part';
    // busboy ends the body at `--B--` whatever follows; a close delimiter line ends there (RFC 2046), so
    // `--B--X` in a preamble is text to the decoder, which finds the parts after it.
    if (isSubsequence(theirs.parts, ours.parts, same) && /--XbX--(?![ \t]*(?:\r|\n|$))/.test(body.toString('latin1'))) {
      return 'busboy closes at a malformed close delimiter';
    }
    // busboy splits at `--B` followed by other bytes than CRLF (`--B\r\r\n`, `--B\n`, `--BContent-...` right
    // after a blank header line); to RFC 2046 that is not a delimiter line: preamble, or a part's data.
    if (isSubsequence(ours.parts, theirs.parts, same) && /--XbX(?![ \t]*\r\n|--)/.test(body.toString('latin1'))) {
      return 'busboy splits at a malformed delimiter';
    }
    throw new Error(
      `both accept, parts differ: decoder ${JSON.stringify(ours.parts)}, busboy ${JSON.stringify(theirs.parts)}`,
    );
  }
  if ('error' in ours) {
    // The decoder refuses what RFC 2046 and 9110 refuse and busboy lets through: a header line that is
    // not `Name: value`, a delimiter followed by other bytes than CRLF or --, a delimiter line's CRLF
    // taken again as the start of the next delimiter.
    // And a body whose only delimiter is a malformed close delimiter (`--B--X`, which busboy takes as the end).
    const malformedClose = /--XbX--(?![ \t]*(?:\r|\n|$))/.test(body.toString('latin1'));
    const bareLf = /(?:^|[^\r])\n/.test(body.toString('latin1'));
    if (ours.code === 'ERR_BOUNDARY_NOT_FOUND' && (malformedClose || bareLf))
      return 'decoder refuses (ERR_BOUNDARY_NOT_FOUND)';
    if (['ERR_MALFORMED_HEADER', 'ERR_MALFORMED_DELIMITER', 'ERR_TRUNCATED'].includes(ours.code!))
      return `decoder refuses (${ours.code})`;
    throw new Error(`the decoder refuses (${ours.error}) what busboy accepts: ${JSON.stringify(theirs)}`);
  }
  // busboy refuses header lines that are legal (a NUL in a browser's filename, `Name:value` without a
  // space), ends a body that has a preamble line like a delimiter, and never settles on others.
  const message = (theirs as { error: string }).error;
  if (['Malformed part header', 'Unexpected end of form', 'never settles'].includes(message))
    return `busboy refuses (${message})`;
  throw new Error(`busboy refuses (${message}) what the decoder accepts: ${JSON.stringify(ours.parts)}`);
}

const tokens = [...TOKENS, '\0', '\\', '\x7f', '\xe9', 'name="z"'];
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), token: fc.constantFrom(...tokens) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('bare LF' as const) }),
);

function mutate(body: Buffer, change: Edit | { kind: 'bare LF' }): Buffer {
  if (change.kind === 'bare LF') return Buffer.from(body.toString('latin1').replaceAll('\r\n', '\n'), 'latin1');
  return edit(body, change);
}

describe('differential against busboy', () => {
  it('on mutated forms: agreement, or one of the documented differences', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (changes) => {
        const body = changes.reduce(mutate, base);
        const verdict = classify(body, await viaDecoder(body), await viaBusboy(body));
        seen.set(verdict, (seen.get(verdict) ?? 0) + 1);
      }),
      { numRuns: 3000, seed: 20261206 },
    );
    // The corpus reaches agreement on accepted bodies, not only refusals.
    expect(seen.get('agree')).toBeGreaterThan(300);
  });

  // Hand-written hostile bodies, each with what each parser does (docs/decoder.md lists them).
  const table: [what: string, body: string, verdict: string][] = [
    ['a valid form', base.toString('latin1'), 'agree'],
    [
      'junk after a delimiter',
      `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--${B}junk\r\n--${B}--`,
      'decoder refuses (ERR_MALFORMED_DELIMITER)',
    ],
    [
      'a header line without a colon',
      `--${B}\r\nContent-Disposition: form-data; name="a"\r\nnonsense\r\n\r\nx\r\n--${B}--`,
      'both refuse',
    ],
    [
      'a part header cut by a close delimiter',
      `--${B}\r\nContent-\r\n--${B}--Disposition: form-data; name="a"\r\n\r\nx\r\n--${B}--\r\n`,
      'decoder refuses (ERR_MALFORMED_HEADER)',
    ],
    [
      'a first delimiter line ending in CR CR LF',
      `--${B}\r\r\n--${B}\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n--${B}--`,
      'busboy splits at a malformed delimiter',
    ],
    [
      'a part with no body section (its header ends right at the next delimiter)',
      `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\n--${B}--\r\n`,
      'busboy refuses (Malformed part header)',
    ],
    [
      '--B and junk right after a blank header line',
      `--${B}\r\n\r\n--${B}Content-Disposition: form-data; name="a"\r\n\r\nhello\r\n--${B}--`,
      'decoder refuses (ERR_MALFORMED_DELIMITER)',
    ],
    ['`Name:value` without a space', `--${B}\r\nContent-Disposition:form-data; name="a"\r\n\r\nx\r\n--${B}--`, 'agree'],
    [
      'a backslash in a filename',
      `--${B}\r\nContent-Disposition: form-data; name="f"; filename="C:\\x.txt"\r\n\r\nx\r\n--${B}--`,
      'agree',
    ],
    [
      'two backslashes in a filename',
      `--${B}\r\nContent-Disposition: form-data; name="f"; filename="a\\\\b"\r\n\r\nx\r\n--${B}--`,
      'busboy reads a backslash as an escape',
    ],
    [
      'a name ending in a backslash, as a browser sends it',
      `--${B}\r\nContent-Disposition: form-data; name="a\\"\r\n\r\nx\r\n--${B}--`,
      'busboy drops a part',
    ],
    [
      'a NUL in a filename, as a browser sends it',
      `--${B}\r\nContent-Disposition: form-data; name="f"; filename="a\0b"\r\n\r\nx\r\n--${B}--`,
      'busboy refuses (Malformed part header)',
    ],
    [
      'a space after = in Content-Disposition',
      `--${B}\r\nContent-Disposition: form-data; name= "a"\r\n\r\nx\r\n--${B}--`,
      'busboy drops a part',
    ],
    [
      '--B--X in the preamble',
      `--${B}--X\r\n${base.toString('latin1')}`,
      'busboy closes at a malformed close delimiter',
    ],
    [
      'a close delimiter, then an epilogue holding a cut part',
      `--X\r\n--${B}--\r\n--${B}bX\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n--${B}\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nfile\r\ndata`,
      'busboy refuses (never settles)',
    ],
    [
      'a body without the close delimiter',
      `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n`,
      'both refuse',
    ],
    ['LF line ends', base.toString('latin1').replaceAll('\r\n', '\n'), 'both refuse'],
  ];
  it.each(table)('%s', async (_what, body, verdict) => {
    const bytes = Buffer.from(body, 'latin1');
    expect(classify(bytes, await viaDecoder(bytes), await viaBusboy(bytes))).toBe(verdict);
  });
});
