import { CliError } from './errors.js';
import { quotedString } from './quoting.js';
import { TOKEN } from './values.js';
import { readsCleanly, splitParameters } from '../common/media-type.js';

/** One `-F` (or `--form-string`) argument, parsed with curl's grammar. */
export interface FormArg {
  name: string;
  /**
   * `text`: name=value; `file`: name=@path; `files`: name=@a,b (several files, sent as a nested
   * multipart/mixed as curl does); `contents`: name=<path (a text field holding the file's bytes).
   */
  kind: 'text' | 'file' | 'files' | 'contents';
  /** The text, or the path (for `files`, the first path). */
  value: string;
  /** For `files`: every path. */
  paths?: string[];
  type?: string;
  filename?: string;
  /** From `;headers=`: a `Name: value` line, or `@file` of such lines. */
  headers?: string[];
}

/** A `;` followed by one of these starts a parameter; any other `;` belongs to the text around it. */
const PARAMETER = /^[ \t]*(type|filename|headers|encoder)=/i;
const WHITESPACE = /[ \t]/;

/** A cursor over the text after `name=`, reporting errors against the whole argument. */
class Cursor {
  at = 0;
  constructor(
    readonly text: string,
    private readonly spec: string,
  ) {}

  error(why: string): CliError {
    return new CliError('usage', `bad -F ${JSON.stringify(this.spec)}: ${why}`);
  }

  get done(): boolean {
    return this.at >= this.text.length;
  }

  skipWhitespace(): void {
    while (!this.done && WHITESPACE.test(this.text[this.at]!)) this.at++;
  }

  /** True at a `;` that starts a parameter. */
  atParameter(): boolean {
    return this.text[this.at] === ';' && PARAMETER.test(this.text.slice(this.at + 1));
  }

  /**
   * A word, as curl reads it: leading blanks skipped; then either a quoted string (`\"` and `\\`
   * escapes) or the text up to the next parameter (or `,` in a list of files), trailing blanks cut.
   */
  word(inList = false): string {
    this.skipWhitespace();
    if (this.text[this.at] === '"') return this.quoted(inList);
    const from = this.at;
    while (!this.done && !this.atParameter() && !(inList && this.text[this.at] === ',')) this.at++;
    return this.text.slice(from, this.at).replace(/[ \t]+$/, '');
  }

  /** Raw text up to the next parameter, blanks cut at both ends: a `;type=` value, as curl takes it (quotes kept). */
  raw(): string {
    const from = this.at;
    while (!this.done && !this.atParameter()) this.at++;
    return this.text.slice(from, this.at).trim();
  }

  private quoted(inList: boolean): string {
    const read = quotedString(this.text, this.at);
    if (read === undefined) throw this.error('unterminated quote');
    const inside = this.text.slice(this.at + 1, read.end - 1);
    // curl keeps a backslash before any other character, where RFC 9110's rule drops it: refused, never sent differently.
    for (let i = 0; i < inside.length; i++) {
      if (inside[i] !== '\\') continue;
      if (inside[i + 1] !== '"' && inside[i + 1] !== '\\')
        throw this.error('inside quotes, \\ escapes only " and \\ (write \\\\ for a backslash)');
      i++;
    }
    this.at = read.end;
    this.skipWhitespace();
    if (!this.done && this.text[this.at] !== ';' && !(inList && this.text[this.at] === ','))
      throw this.error('text after the closing quote');
    return read.value;
  }
}

/**
 * Parses `name=value`, `name=@path[;type=T][;filename=F]`, `name=@a,b` and `name=<path[;type=T]`,
 * each with any number of `;headers=Name: value` or `;headers=@file`, as curl does (docs/cli.md).
 */
export function parseFormArg(spec: string): FormArg {
  const eq = spec.indexOf('=');
  if (eq <= 0)
    throw new CliError('usage', `bad -F ${JSON.stringify(spec)}: expected name=value, name=@file or name=<file`);
  const cursor = new Cursor(spec.slice(eq + 1), spec);
  // As in curl, `@` and `<` count only right after the `=`: `a= @x` is the text "@x".
  const marker = cursor.text[0];
  const kind: FormArg['kind'] = marker === '@' ? 'file' : marker === '<' ? 'contents' : 'text';
  if (kind !== 'text') cursor.at++;
  const paths = kind === 'file' ? fileList(cursor) : [cursor.word()];
  const arg: FormArg = { name: spec.slice(0, eq), kind, value: paths[0]! };
  if (paths.length > 1) Object.assign(arg, { kind: 'files', paths });
  readParameters(cursor, arg);
  if (kind !== 'text' && paths.includes('')) throw cursor.error(`no file named after ${kind === 'file' ? '@' : '<'}`);
  if (arg.kind === 'files' && (arg.type !== undefined || arg.filename !== undefined)) {
    throw cursor.error(
      ';type= and ;filename= name one file; with several files each gets its own name and guessed type',
    );
  }
  return arg;
}

/** The paths after `@`: one, or several separated by commas (curl's `-F f=@a,b`). */
function fileList(cursor: Cursor): string[] {
  const files = [cursor.word(true)];
  while (cursor.text[cursor.at] === ',') {
    cursor.at++;
    files.push(cursor.word(true));
  }
  return files;
}

/** The `;type=`, `;filename=` and `;headers=` after the value, into `arg`. */
function readParameters(cursor: Cursor, arg: FormArg): void {
  while (!cursor.done) {
    // The cursor is at a `;` here: words stop only at one that starts a parameter.
    if (!cursor.atParameter())
      throw cursor.error(`unknown parameter ${JSON.stringify(cursor.text.slice(cursor.at + 1))}`);
    cursor.at++;
    cursor.skipWhitespace();
    const key = PARAMETER.exec(cursor.text.slice(cursor.at))![1]!.toLowerCase();
    cursor.at += key.length + 1;
    if (key === 'type') arg.type = mediaType(cursor.raw(), cursor);
    else if (key === 'filename') arg.filename = cursor.word();
    else if (key === 'headers') (arg.headers ??= []).push(cursor.word());
    else throw cursor.error(';encoder= is not supported: parts are sent as they are (RFC 7578 §4.7)');
  }
}

/**
 * A `;type=` value, refused unless it is a media type (RFC 9110 §8.3.1: `type/subtype`, then
 * `;name=value` parameters): it becomes the part's Content-Type as given, and an empty one or
 * `";"` would go out as a header no receiver can read. curl refuses those too.
 */
function mediaType(raw: string, cursor: Cursor): string {
  const [essence = '', ...parameters] = splitParameters(raw, 'rfc9110');
  const [type, subtype, ...more] = essence.trim().split('/');
  const valid =
    TOKEN.test(type ?? '') &&
    TOKEN.test(subtype ?? '') &&
    more.length === 0 &&
    parameters.every(isParameter) &&
    readsCleanly(raw, 'rfc9110');
  if (!valid) throw cursor.error(`;type= takes a media type such as text/plain, not ${JSON.stringify(raw)}`);
  return raw;
}

/** `name=value` (a token, or a quoted string readsCleanly checks), or nothing between two `;`. */
function isParameter(piece: string): boolean {
  const text = piece.trim();
  if (text === '') return true;
  const equals = text.indexOf('=');
  const value = text.slice(equals + 1).trimStart();
  return equals > 0 && TOKEN.test(text.slice(0, equals).trimEnd()) && (value.startsWith('"') || TOKEN.test(value));
}

/** `--form-string name=value`: the value exactly as given, no `@`, `<` or `;` parameters. */
export function parseFormString(spec: string): FormArg {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new CliError('usage', `bad --form-string ${JSON.stringify(spec)}: expected name=value`);
  return { name: spec.slice(0, eq), kind: 'text', value: spec.slice(eq + 1) };
}
