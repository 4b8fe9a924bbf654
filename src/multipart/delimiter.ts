import { MultipartError } from '../common/errors.js';
import { asBuffer } from './bytes.js';

/**
 * The delimiter rule (RFC 2046 §5.1.1), in one place: a parser splits a body where `--B` begins a
 * line, so data framed with a boundary the caller chose must not hold `--B` at its start or after a
 * line feed (a random boundary cannot occur by chance, and is not looked for). In-memory data is
 * checked when the body is planned, files and streams as their bytes go out.
 */

/** What is searched for: `\n--B` (which also finds `\r\n--B`); a scan starts as if after a line feed. */
export function delimiterNeedle(boundary: string): Buffer {
  return Buffer.from(`\n--${boundary}`, 'latin1');
}

export function boundaryInData(label: string | undefined): MultipartError {
  return new MultipartError(
    'ERR_BOUNDARY_IN_DATA',
    'its data contains the boundary delimiter; choose another boundary',
    { paramName: label },
  );
}

/** Throws ERR_BOUNDARY_IN_DATA if `data` (text is sent as UTF-8) holds the delimiter of `boundary`. */
export function assertNoDelimiter(data: string | Uint8Array, boundary: string, label: string | undefined): void {
  const delimiter = `--${boundary}`;
  const found =
    typeof data === 'string'
      ? data.startsWith(delimiter) || data.includes(`\n${delimiter}`)
      : startsWithDelimiter(asBuffer(data), delimiter) || asBuffer(data).includes(delimiterNeedle(boundary));
  if (found) throw boundaryInData(label);
}

function startsWithDelimiter(bytes: Buffer, delimiter: string): boolean {
  return bytes.length >= delimiter.length && bytes.toString('latin1', 0, delimiter.length) === delimiter;
}

/** Finds the delimiter in data that arrives in chunks, across the chunks' edges. */
export class DelimiterScanner {
  readonly #needle: Buffer;
  /** The last bytes seen (up to the needle's length less one): a line feed before the first chunk. */
  #tail: Buffer = Buffer.from('\n');

  constructor(
    boundary: string,
    private readonly label: string | undefined,
  ) {
    this.#needle = delimiterNeedle(boundary);
  }

  scan(chunk: Uint8Array): void {
    const bytes = asBuffer(chunk);
    const keep = this.#needle.length - 1;
    const seam = Buffer.concat([this.#tail, bytes.subarray(0, keep)]);
    if (seam.includes(this.#needle) || bytes.includes(this.#needle)) throw boundaryInData(this.label);
    this.#tail =
      bytes.length >= keep
        ? Buffer.from(bytes.subarray(bytes.length - keep))
        : seam.subarray(Math.max(seam.length - keep, 0));
  }
}

/** Reads `chunks` to their end, failing with ERR_BOUNDARY_IN_DATA if they hold the delimiter of any of `boundaries`. */
export async function assertNoDelimiterIn(
  chunks: AsyncIterable<Uint8Array>,
  boundaries: readonly string[],
  label: string | undefined,
): Promise<void> {
  const scanners = boundaries.map((boundary) => new DelimiterScanner(boundary, label));
  for await (const chunk of chunks) for (const scanner of scanners) scanner.scan(chunk);
}
