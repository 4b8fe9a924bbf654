import { createWriteStream, openSync, rmSync } from 'node:fs';
import { link, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DecodeError, multipartDecode, type DecodedPart, type DecodeOptions } from '../index.js';
import { CliError } from './errors.js';
import { onInterrupt } from './signals.js';
import { visible } from '../common/visible.js';

/** How `decode` and `--decode` split a body: into DIR or only listed, nested parts in turn or not. */
export interface SplitSettings {
  /** The folder each part is written to; undefined: the parts are only listed. */
  dir: string | undefined;
  recursive: boolean;
  /** The decoder's limits, for nested bodies too. */
  options: DecodeOptions;
}

/**
 * Lists every part on stdout (index, size, name, filename, type, and its file) and, with a folder,
 * writes it there with its header lines beside it; nested multipart parts in turn with
 * `recursive`. A part's file appears only once the part has ended: a body cut short or refused
 * midway leaves the parts before it and nothing half written.
 */
export async function splitParts(
  parts: AsyncIterable<DecodedPart>,
  settings: SplitSettings,
  stdout: NodeJS.WritableStream,
): Promise<void> {
  const { dir } = settings;
  // DIR itself is the user's: it may be missing (made with its parents) or a link they chose.
  if (dir !== undefined) await makeFolder(dir, { recursive: true });
  await splitInto(parts, settings, stdout, '');
}

async function splitInto(
  parts: AsyncIterable<DecodedPart>,
  settings: SplitSettings,
  stdout: NodeJS.WritableStream,
  prefix: string,
): Promise<void> {
  const { dir } = settings;
  for await (const part of parts) {
    const number = String(part.index + 1).padStart(3, '0');
    const index = `${prefix}${number}`;
    const path =
      dir === undefined ? undefined : join(dir, `${number}-${safeName(part.filename ?? part.name ?? 'part')}`);
    const headers = part.rawHeaders.map(([name, value]) => `${name}: ${value}\n`).join('');
    if (path !== undefined && settings.recursive && /^multipart\//i.test(part.contentType ?? '')) {
      // A nested folder is named by the body: made new, never an entry already there. A link there
      // (`NNN-NAME -> ../elsewhere`) would take the nested parts outside DIR, as recursive: true follows it.
      // Made before its headers file, so that a folder refused leaves nothing of its part behind.
      await makeFolder(path, { recursive: false });
      await writeNewFile(`${path}.headers`, [Buffer.from(headers, 'latin1')], () => {});
      stdout.write(`${row(index, '-', part)}\t${path}/\n`);
      const nested = multipartDecode(part, { ...settings.options, contentType: part.contentType! });
      await splitInto(nested, { ...settings, dir: path }, stdout, `${index}.`);
      continue;
    }
    let size = 0;
    const counted = (async function* () {
      for await (const chunk of part) yield ((size += chunk.length), chunk);
    })();
    if (path === undefined) for await (const _chunk of counted);
    else await writePart(path, headers, counted);
    stdout.write(`${row(index, String(size), part)}${path === undefined ? '' : `\t${path}`}\n`);
  }
}

async function makeFolder(dir: string, options: { recursive: boolean }): Promise<void> {
  await mkdir(dir, options).catch((error: Error) => {
    throw new CliError('write', `cannot make the folder ${dir}: ${error.message}`, error);
  });
}

const cell = (text: string | undefined) => (text === undefined ? '-' : visible(text));
const row = (index: string, size: string, part: DecodedPart) =>
  [index, size, cell(part.name), cell(part.filename), cell(part.contentType)].join('\t');

/** A file name that stays in its folder: letters, digits, dot, dash and underscore, no leading dot, at most 100 characters. */
function safeName(name: string): string {
  const safe = name
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 100);
  return safe === '' ? 'part' : safe;
}

/**
 * Writes PATH.headers, then the data to a hidden PATH's `.partial` file that is linked to PATH once
 * the part has ended (a link, unlike a rename, never replaces a file). On any failure, or a signal
 * that ends the process, neither file is left.
 */
async function writePart(path: string, headers: string, data: AsyncIterable<Uint8Array>): Promise<void> {
  const headersPath = `${path}.headers`;
  const partial = join(dirname(path), `.${basename(path)}.partial`);
  const made = { headers: false, partial: false, done: false };
  // Registered before the first file is made: a signal at any point removes what this call made.
  const removeOurs = () => {
    if (made.partial) rmSync(partial, { force: true });
    if (made.headers && !made.done) rmSync(headersPath, { force: true });
  };
  const forget = onInterrupt(removeOurs);
  try {
    await writeNewFile(headersPath, [Buffer.from(headers, 'latin1')], () => (made.headers = true));
    await writeNewFile(partial, data, () => (made.partial = true));
    await link(partial, path).catch((error: Error) => {
      throw new CliError('write', `cannot write ${path}: ${error.message}`, error);
    });
    made.done = true;
  } finally {
    forget();
    removeOurs();
  }
}

/**
 * Writes a new file (never one that exists) with back-pressure; `onCreated` once it exists. The
 * file is made synchronously, so that a signal never finds it made but not yet marked. A failure of
 * the data comes out as it was, one to write as a CliError.
 */
async function writeNewFile(
  path: string,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  onCreated: () => void,
): Promise<void> {
  const fail = (error: unknown) => new CliError('write', `cannot write ${path}: ${(error as Error).message}`, error);
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    throw fail(error);
  }
  onCreated();
  try {
    await pipeline(chunks, createWriteStream(path, { fd }));
  } catch (error) {
    if (error instanceof DecodeError || error instanceof CliError) throw error;
    throw fail(error);
  }
}
