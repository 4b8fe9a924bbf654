import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { multipartDecode } from '../../src/decoder/decode.js';
import { unescapeFormName } from '../../src/decoder/params.js';
import type { DecodedPart } from '../../src/decoder/part.js';
import { escapeFilename, escapeName } from '../../src/multipart/escape.js';
import { MultipartError, multipartEncode, MultipartParam } from '../../src/index.js';
import { guessType } from '../../src/multipart/mime.js';
import { mimeType, trickyString } from '../helpers/arbitraries.js';
import { collect } from '../helpers/parse.js';
import { chunksOf } from './helpers.js';

const BOUNDARY = 'B0undary';
// Data rich in what a delimiter search can trip on: line ends, dashes, prefixes of the delimiter.
const fragments = [
  '\r',
  '\n',
  '\r\n',
  '--',
  '\r\n-',
  '\r\n--',
  `\r\n--${BOUNDARY.slice(0, 4)}`,
  `\r\n--${BOUNDARY.slice(0, -1)}`,
  `--${BOUNDARY}`,
  '\r\r\n\n',
];
const trickyBytes = fc
  .array(
    fc.oneof(
      fc.constantFrom(...fragments).map((s) => Buffer.from(s)),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    ),
    { maxLength: 12 },
  )
  .map((pieces) => Buffer.concat(pieces));

interface Leaf {
  kind: 'leaf';
  name: string | null;
  filename: string | undefined;
  filetype: string | undefined;
  headers: [string, string][];
  data: Buffer;
}
interface Nested {
  kind: 'nested';
  name: string | null;
  subtype: string;
  children: Node[];
}
type Node = Leaf | Nested;

const extraHeaders = fc.subarray([
  ['Content-ID', '<part@example.com>'],
  ['X-Trace', 'a; b="c"'],
  ['Content-Transfer-Encoding', 'binary'],
] as [string, string][]);

const { tree } = fc.letrec<{ tree: Node[]; node: Node; leaf: Leaf; nested: Nested }>((tie) => ({
  tree: fc.array(tie('node'), { minLength: 1, maxLength: 4 }),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('leaf'), tie('nested')),
  leaf: fc.record({
    kind: fc.constant('leaf' as const),
    name: fc.option(trickyString(), { nil: null }),
    filename: fc.option(trickyString(), { nil: undefined }),
    filetype: fc.option(mimeType, { nil: undefined }),
    headers: extraHeaders,
    data: trickyBytes,
  }),
  nested: fc.record({
    kind: fc.constant('nested' as const),
    name: fc.option(trickyString(), { nil: null }),
    subtype: fc.constantFrom('mixed', 'related', 'alternative'),
    children: fc.array(tie('node'), { minLength: 1, maxLength: 3 }),
  }),
}));

/** The top level: a subtype, the parts, and whether the boundary is chosen (so the data can hold its prefixes). */
const body = fc.record({
  subtype: fc.constantFrom('form-data', 'mixed', 'related'),
  children: tree,
  chosen: fc.boolean(),
});

async function encodeNodes(nodes: Node[], formData: boolean): Promise<MultipartParam[]> {
  return Promise.all(
    nodes.map(async (node) => {
      const name = formData ? (node.name ?? '') : node.name;
      if (node.kind === 'nested')
        return new MultipartParam(name, {
          value: await multipartEncode(await encodeNodes(node.children, false), { subtype: node.subtype }),
        });
      return new MultipartParam(name, {
        value: node.data,
        ...(node.filename === undefined ? {} : { filename: node.filename }),
        ...(node.filetype === undefined ? {} : { filetype: node.filetype }),
        headers: node.headers,
      });
    }),
  );
}

/** What the decoder must give back for a node: escapes undone as a browser's parser undoes them. */
function expected(node: Node, formData: boolean): unknown {
  const name = formData ? (node.name ?? '') : node.name;
  const decodedName = name === null ? undefined : unescapeFormName(escapeName(name));
  if (node.kind === 'nested')
    return { name: decodedName, children: node.children.map((child) => expected(child, false)) };
  const type = node.filetype ?? (node.filename === undefined ? undefined : guessType(node.filename));
  return {
    name: decodedName,
    // A nameless part (outside form-data) is written with no Content-Disposition at all: its filename is not sent.
    filename:
      node.filename === undefined || name === null ? undefined : unescapeFormName(escapeFilename(node.filename)),
    contentType: type,
    headers: node.headers,
    data: node.data,
  };
}

async function decodeTree(parts: AsyncIterable<DecodedPart>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const part of parts) {
    if (part.contentType?.startsWith('multipart/')) {
      out.push({ name: part.name, children: await decodeTree(multipartDecode(part)) });
      continue;
    }
    const known = new Set(['content-disposition', 'content-type']);
    const headers = part.rawHeaders
      .filter(([key]) => !known.has(key.toLowerCase()))
      .map(([key, value]) => [key, value]);
    out.push({
      name: part.name,
      filename: part.filename,
      contentType: part.contentType,
      headers,
      data: Buffer.from(await part.bytes({ maxBytes: Infinity })),
    });
  }
  return out;
}

type Spec = typeof body extends fc.Arbitrary<infer T> ? T : never;

async function encoded(spec: Spec) {
  const formData = spec.subtype === 'form-data';
  try {
    const form = await multipartEncode(await encodeNodes(spec.children, formData), {
      subtype: spec.subtype,
      ...(spec.chosen ? { boundary: BOUNDARY } : {}),
    });
    return {
      bytes: await collect(form.body),
      contentType: form.headers['Content-Type']!,
      expected: spec.children.map((node) => expected(node, formData)),
    };
  } catch (error) {
    // A chosen boundary found in the data (or a nested boundary that starts with it): the encoder refuses, nothing to decode.
    if (
      error instanceof MultipartError &&
      (error.code === 'ERR_BOUNDARY_IN_DATA' || error.code === 'ERR_INVALID_BOUNDARY')
    )
      return undefined;
    throw error;
  }
}

describe('round trip: whatever tree the encoder writes, the decoder gives it back, whatever the chunking', () => {
  it('in one chunk, in chunks of 1 byte, and cut at random places', async () => {
    await fc.assert(
      fc.asyncProperty(body, fc.array(fc.nat(), { maxLength: 6 }), async (spec, cuts) => {
        const wire = await encoded(spec);
        fc.pre(wire !== undefined);
        const { bytes, contentType } = wire!;
        const positions = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
        const pieces: Buffer[] = [];
        positions.reduce((from, at) => (pieces.push(bytes.subarray(from, at)), at), 0);
        pieces.push(bytes.subarray(positions.at(-1) ?? 0));
        for (const chunks of [[bytes], chunksOf(bytes, 1), pieces]) {
          expect(await decodeTree(multipartDecode(chunks, { contentType }))).toEqual(wire!.expected);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('cut in two at every position, for small bodies', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (spec) => {
        const wire = await encoded(spec);
        fc.pre(wire !== undefined && wire.bytes.length <= 1500);
        const { bytes, contentType } = wire!;
        for (let at = 0; at <= bytes.length; at++) {
          expect(
            await decodeTree(multipartDecode([bytes.subarray(0, at), bytes.subarray(at)], { contentType })),
          ).toEqual(wire!.expected);
        }
      }),
      { numRuns: 15 },
    );
  });
});

describe('round trip of large parts in chunks around the stream buffer sizes', () => {
  const sizes = [16383, 16384, 16385, 65535, 65536, 65537, 1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1];
  const data = Buffer.alloc(300_000);
  for (let i = 0; i < data.length; i++) data[i] = i % 251 === 0 ? 0x0d : i % 253 === 0 ? 0x0a : (i * 7) & 0xff;
  // The delimiter's prefixes at every distance from the chunk edges.
  for (let at = 16370; at < data.length - 20; at += 16384) Buffer.from(`\r\n--${BOUNDARY.slice(0, 5)}`).copy(data, at);

  it.each(sizes)('chunks of %i bytes', async (size) => {
    const form = await multipartEncode(
      [new MultipartParam('big', { value: data, filename: 'big.bin' }), new MultipartParam('small', { value: 'x' })],
      { boundary: BOUNDARY },
    );
    const bytes = await collect(form.body);
    const parts = await decodeTree(
      multipartDecode(chunksOf(bytes, size), { contentType: form.headers['Content-Type'] }),
    );
    expect(parts).toEqual([
      { name: 'big', filename: 'big.bin', contentType: 'application/octet-stream', headers: [], data },
      { name: 'small', filename: undefined, contentType: undefined, headers: [], data: Buffer.from('x') },
    ]);
  });

  it.each(sizes)('a part of %i bytes in one chunk and in chunks of 16 KiB', async (size) => {
    const big = Buffer.alloc(size, 0x2d); // all dashes
    const form = await multipartEncode([new MultipartParam('f', { value: big })], { boundary: BOUNDARY });
    const bytes = await collect(form.body);
    for (const chunks of [[bytes], chunksOf(bytes, 16384)]) {
      const [part] = (await decodeTree(multipartDecode(chunks, { boundary: BOUNDARY }))) as { data: Buffer }[];
      expect(part!.data.equals(big)).toBe(true);
    }
  });
});
