// The corpus the differential tests mutate: a valid form, the tokens inserted into it, and the
// edits (cut, insert, delete) applied to it.

export const B = 'XbX';

export const base: Buffer = Buffer.from(
  `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n` +
    `--${B}\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nfile\r\ndata\r\n--${B}--\r\n`,
);

/** What an insertion puts in: line ends, delimiter pieces, header syntax. */
export const TOKENS = [
  '\r',
  '\n',
  '\r\n',
  '-',
  '--',
  `--${B}`,
  `\r\n--${B}`,
  `\r\n--${B}--`,
  ' ',
  '\t',
  ':',
  '"',
  ';',
  'x',
];

export type Edit =
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; token: string }
  | { kind: 'delete'; at: number; length: number };

/** `body` with one edit made at `at` (taken modulo the body's length + 1). */
export function edit(body: Buffer, change: Edit): Buffer {
  const at = change.at % (body.length + 1);
  if (change.kind === 'cut') return body.subarray(0, at);
  if (change.kind === 'insert')
    return Buffer.concat([body.subarray(0, at), Buffer.from(change.token, 'latin1'), body.subarray(at)]);
  return Buffer.concat([body.subarray(0, at), body.subarray(at + change.length)]);
}
