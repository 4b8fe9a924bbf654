import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { multipartDecode } from '../../src/decoder/decode.js';
import { parseWithGo, parseWithPythonEmail, type MimeTree } from '../helpers/mime-tree.js';
import { B, base, edit, TOKENS } from './mutations.js';

// Differential: the decoder against Python's email package and Go's mime/multipart, on bodies mutated
// from a valid form. Each difference falls in a documented class (docs/decoder.md): they accept
// bare-LF line ends, header lines that are not `Name: value` and, Python, lines ended by a bare CR;
// Go does not report some cut bodies. Where the decoder accepts a body, the parts agree.

const tokens = [...TOKENS, '\\'];

type Outcome = { parts: string } | { error: string };

/** Parts as comparable text: per part its header lines (names lowercased, whitespace runs as one space, sorted) and bytes. */
function view(parts: { headers: readonly (readonly [string, string])[]; body: Buffer }[]): string {
  const header = ([name, value]: readonly [string, string]) =>
    `${name.toLowerCase()}: ${value.replace(/\s+/g, ' ').trim()}`;
  return JSON.stringify(parts.map((part) => [part.headers.map(header).sort(), part.body.toString('latin1')]));
}

async function viaDecoder(body: Buffer): Promise<Outcome & { code?: string }> {
  try {
    const parts = [];
    for await (const part of multipartDecode([body], { boundary: B }))
      parts.push({ headers: part.rawHeaders, body: Buffer.from(await part.bytes()) });
    return { parts: view(parts) };
  } catch (error) {
    return { error: (error as Error).message, code: (error as { code: string }).code };
  }
}

const fromTree = (tree: MimeTree): Outcome =>
  tree.error !== undefined
    ? { error: tree.error }
    : {
        parts: view((tree.parts ?? []).map((part) => ({ headers: part.headers, body: part.body ?? Buffer.alloc(0) }))),
      };

const bareLf = (body: Buffer) => /(?:^|[^\r])\n/.test(body.toString('latin1'));
const bareCr = (body: Buffer) => /\r(?!\n)/.test(body.toString('latin1'));

function classifyGo(body: Buffer, ours: Outcome & { code?: string }, go: Outcome): string {
  if ('error' in ours && 'error' in go) return 'both refuse';
  if ('parts' in ours && 'parts' in go && ours.parts === go.parts) return 'agree';
  // Go reads a line ended by a bare LF as a line: a delimiter after one, LF-only bodies.
  if (bareLf(body)) return 'Go reads bare LF line ends';
  if ('error' in ours) {
    if (ours.code === 'ERR_MALFORMED_HEADER') return 'Go keeps a header line the decoder refuses';
    if (ours.code === 'ERR_TRUNCATED' || ours.code === 'ERR_BOUNDARY_NOT_FOUND') return 'Go does not report a cut body';
    if (ours.code === 'ERR_MALFORMED_DELIMITER') return 'Go reads junk after a delimiter as data';
  }
  if ('error' in go && /--XbX--[ \t]*\r?$/.test(body.toString('latin1')))
    return 'Go wants a line end after the close delimiter';
  throw new Error(
    `undocumented difference with Go on ${JSON.stringify(body.toString('latin1'))}: decoder ${JSON.stringify(ours)}, Go ${JSON.stringify(go)}`,
  );
}

function classifyPython(body: Buffer, ours: Outcome & { code?: string }, python: Outcome, defects: string[]): string {
  if ('parts' in ours && 'parts' in python && ours.parts === python.parts)
    return defects.length === 0 ? 'agree' : 'Python notes a defect';
  if ('error' in ours && defects.length > 0) return 'Python notes a defect where the decoder refuses';
  if (bareLf(body) || bareCr(body)) return 'Python ends lines at a bare CR or LF';
  if ('error' in ours && ours.code === 'ERR_MALFORMED_HEADER') return 'Python keeps a header line the decoder refuses';
  if ('error' in ours && ours.code === 'ERR_MALFORMED_DELIMITER') return 'Python reads junk after a delimiter as data';
  throw new Error(
    `undocumented difference with Python on ${JSON.stringify(body.toString('latin1'))}: decoder ${JSON.stringify(ours)}, Python ${JSON.stringify(python)} ${defects}`,
  );
}

function mutated(count: number): Buffer[] {
  const change = fc.oneof(
    fc.record({
      kind: fc.constant(0),
      at: fc.nat(),
      token: fc.constantFrom(...tokens),
      length: fc.integer({ min: 1, max: 4 }),
    }),
    fc.record({
      kind: fc.constant(1),
      at: fc.nat(),
      token: fc.constantFrom(...tokens),
      length: fc.integer({ min: 1, max: 4 }),
    }),
    fc.record({
      kind: fc.constant(2),
      at: fc.nat(),
      token: fc.constantFrom(...tokens),
      length: fc.integer({ min: 1, max: 4 }),
    }),
  );
  return fc
    .sample(fc.array(change, { minLength: 1, maxLength: 2 }), { numRuns: count, seed: 20261206 })
    .map((changes) =>
      changes.reduce(
        (body, { kind, at, token, length }) =>
          edit(
            body,
            kind === 0
              ? { kind: 'cut', at }
              : kind === 1
                ? { kind: 'insert', at, token }
                : { kind: 'delete', at, length },
          ),
        base,
      ),
    );
}

describe('differential against Python email and Go mime/multipart', () => {
  const bodies = [base, Buffer.from(base.toString('latin1').replaceAll('\r\n', '\n'), 'latin1'), ...mutated(1500)];
  const contentType = `multipart/form-data; boundary=${B}`;

  it('on a valid form and 1,500 mutations of it: agreement, or a documented difference', async () => {
    const [python, go] = await Promise.all([
      parseWithPythonEmail(bodies.map((body) => ({ contentType, body }))),
      parseWithGo(bodies.map((body) => ({ contentType, body }))),
    ]);
    const seen = new Map<string, number>();
    for (const [i, body] of bodies.entries()) {
      const ours = await viaDecoder(body);
      for (const verdict of [
        `Go: ${classifyGo(body, ours, fromTree(go[i]!))}`,
        `Python: ${classifyPython(body, ours, fromTree(python[i]!), python[i]!.defects ?? [])}`,
      ]) {
        seen.set(verdict, (seen.get(verdict) ?? 0) + 1);
      }
    }
    // The valid form agrees with both, and so does a good share of the mutations.
    expect(seen.get('Go: agree')).toBeGreaterThan(200);
    expect(seen.get('Python: agree')).toBeGreaterThan(200);
  });
});
