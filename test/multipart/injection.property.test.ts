import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { multipartEncode, MultipartParam } from '../../src/index.js';
import { trickyString } from '../helpers/arbitraries.js';
import { collect } from '../helpers/parse.js';

const B = 'InjectionTestBoundary';
// Strings an attacker would try: line breaks, a fake header, a fake delimiter, quotes.
const hostile = fc.oneof(
  trickyString(8),
  fc.constantFrom(
    `x"\r\nContent-Type: text/html\r\n\r\n<script>`,
    `\r\n--${B}\r\nContent-Disposition: form-data; name="admin"\r\n\r\ntrue`,
    `a"; name="evil`,
    `--${B}--`,
    '\n\n\n',
    '\r\r"',
  ),
  fc
    .tuple(trickyString(4), fc.constantFrom(`\r\n--${B}`, '\r\nX-Injected: 1', '"'), trickyString(4))
    .map((p) => p.join('')),
);

const field = fc.record({
  name: hostile,
  filename: fc.option(hostile, { nil: undefined }),
  value: fc.string({ maxLength: 20 }),
});

describe('no name or filename can add a header or a part', () => {
  it('every part has exactly its own header lines, and the delimiter appears only as framing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(field, { maxLength: 6 }), async (fields) => {
        const params = fields.map(
          (f) =>
            new MultipartParam(f.name, {
              value: f.value,
              ...(f.filename === undefined ? {} : { filename: f.filename }),
            }),
        );
        const body = (await collect((await multipartEncode(params, { boundary: B })).body)).toString('utf8');

        const lines = body.split('\r\n');
        expect(lines.filter((l) => l === `--${B}`)).toHaveLength(fields.length);
        expect(lines.filter((l) => l.startsWith(`--${B}`))).toHaveLength(fields.length + 1);
        expect(body.endsWith(`--${B}--\r\n`)).toBe(true);

        const parts = body.slice(0, -`--${B}--\r\n`.length).split(`--${B}\r\n`).slice(1);
        expect(parts).toHaveLength(fields.length);
        parts.forEach((part, i) => {
          const headers = part.slice(0, part.indexOf('\r\n\r\n')).split('\r\n');
          const isFile = fields[i]!.filename !== undefined;
          expect(headers).toHaveLength(isFile ? 2 : 1);
          expect(headers[0]).toMatch(/^Content-Disposition: form-data; name="[^"\r\n]*"(; filename="[^"\r\n]*")?$/);
          if (isFile) expect(headers[1]).toMatch(/^Content-Type: [^\r\n]+$/);
        });

        const parsed = [
          ...(await new Response(body, {
            headers: { 'content-type': `multipart/form-data; boundary=${B}` },
          }).formData()),
        ];
        expect(parsed).toHaveLength(fields.length);
      }),
      { numRuns: 300 },
    );
  });

  it('a content type holding CR or LF is refused, never sent', () => {
    fc.assert(
      fc.property(trickyString(6), fc.constantFrom('\r', '\n', '\r\n'), trickyString(6), (before, newline, after) => {
        expect(() => new MultipartParam('f', { value: 'x', filetype: `${before}${newline}${after}` })).toThrow(
          expect.objectContaining({ code: 'ERR_INVALID_HEADER_VALUE', paramName: 'f' }),
        );
      }),
    );
  });
});
