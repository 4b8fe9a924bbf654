import fc from 'fast-check';

const tricky = [
  '\r',
  '\n',
  '\r\n',
  '"',
  '\\',
  ';',
  '=',
  '%',
  '%22',
  ' ',
  '\0',
  '--',
  '\t',
  'é',
  '☃',
  '😀',
  'filename="x"',
  'name=',
  ':',
];

/** Strings rich in what breaks naive encoders: newlines, quotes, percent escapes, non-ASCII. */
export const trickyString = (maxLength = 12) =>
  fc
    .array(fc.oneof(fc.constantFrom(...tricky), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 })), {
      maxLength,
    })
    .map((pieces) => pieces.join(''));

export const mimeType = fc
  .tuple(fc.constantFrom('text', 'image', 'application', 'x-custom'), fc.stringMatching(/^[a-z0-9][a-z0-9.+-]{0,10}$/))
  .map(([type, subtype]) => `${type}/${subtype}`);

export type SourceKind = 'string' | 'bytes' | 'blob' | 'file' | 'stream' | 'webstream';

export interface FieldSpec {
  name: string;
  kind: SourceKind;
  filename: string | undefined;
  filetype: string | undefined;
  text: string;
  data: Uint8Array;
}

export const fieldSpec = fc.record({
  name: trickyString(),
  kind: fc.constantFrom<SourceKind>('string', 'bytes', 'blob', 'file', 'stream', 'webstream'),
  filename: fc.option(trickyString(), { nil: undefined }),
  filetype: fc.option(mimeType, { nil: undefined }),
  text: fc.string({ unit: 'grapheme', maxLength: 40 }),
  data: fc.uint8Array({ maxLength: 3000 }),
});
