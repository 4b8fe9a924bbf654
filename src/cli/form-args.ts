import { readFile } from 'node:fs/promises';
import { MultipartParam } from '../param.js';
import { CliError } from './errors.js';

/** One `-F` argument, parsed with curl's grammar. */
export interface FormArg {
  name: string;
  /** `text`: name=value; `file`: name=@path; `contents`: name=<path (a text field holding the file's bytes). */
  kind: 'text' | 'file' | 'contents';
  /** The text, or the path. */
  value: string;
  type?: string;
  filename?: string;
}

const KNOWN_PARAMS = /^(type|filename)=/i;

/**
 * Parses `name=value`, `name=@path[;type=T][;filename=F]` and `name=<path[;type=T]`.
 * A value may be double-quoted (`"a;b"`, with `\"` and `\\` escapes) to hold a `;`.
 * Only `;type=` and `;filename=` start a parameter; any other `;` is part of the value.
 */
export function parseFormArg(spec: string): FormArg {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new CliError('usage', `bad -F ${JSON.stringify(spec)}: expected name=value, name=@file or name=<file`);
  const name = spec.slice(0, eq);
  let rest = spec.slice(eq + 1);
  let kind: FormArg['kind'] = 'text';
  if (rest.startsWith('@')) kind = 'file';
  else if (rest.startsWith('<')) kind = 'contents';
  if (kind !== 'text') rest = rest.slice(1);

  const [value, params] = splitValue(rest, spec);
  const arg: FormArg = { name, kind, value };
  for (const param of params) {
    const [key, raw] = [param.slice(0, param.indexOf('=')).toLowerCase(), param.slice(param.indexOf('=') + 1)];
    const unquoted = raw.startsWith('"') ? splitValue(raw, spec)[0] : raw;
    if (key === 'type') arg.type = unquoted;
    else arg.filename = unquoted;
  }
  if ((kind === 'file' || kind === 'contents') && value === '') {
    throw new CliError('usage', `bad -F ${JSON.stringify(spec)}: no file named after ${kind === 'file' ? '@' : '<'}`);
  }
  return arg;
}

/** Splits a value (quoted or not) from the `;type=`/`;filename=` parameters after it. */
function splitValue(text: string, spec: string): [string, string[]] {
  let value = '';
  let i = 0;
  if (text.startsWith('"')) {
    for (i = 1; i < text.length && text[i] !== '"'; i++) {
      if (text[i] === '\\' && i + 1 < text.length) i++;
      value += text[i];
    }
    if (i >= text.length) throw new CliError('usage', `bad -F ${JSON.stringify(spec)}: unterminated quote`);
    i++;
    if (i < text.length && text[i] !== ';') throw new CliError('usage', `bad -F ${JSON.stringify(spec)}: text after the closing quote`);
  } else {
    for (; i < text.length; i++) {
      if (text[i] === ';' && KNOWN_PARAMS.test(text.slice(i + 1))) break;
      value += text[i];
    }
  }
  const params: string[] = [];
  while (i < text.length) {
    // text[i] is ';' here; a parameter runs to the next ';' that starts another known one
    let end = i + 1;
    if (text[end] !== undefined && text.slice(end).match(/^(type|filename)="/i)) {
      const open = text.indexOf('"', end);
      let close = open + 1;
      for (; close < text.length && text[close] !== '"'; close++) if (text[close] === '\\') close++;
      end = close + 1;
    } else {
      while (end < text.length && !(text[end] === ';' && KNOWN_PARAMS.test(text.slice(end + 1)))) end++;
    }
    const param = text.slice(i + 1, end);
    if (!KNOWN_PARAMS.test(param)) throw new CliError('usage', `bad -F ${JSON.stringify(spec)}: unknown parameter ${JSON.stringify(param)}`);
    params.push(param);
    i = end;
  }
  return [value, params];
}

/** The params the arguments describe; files are only `stat`ed (a `<file` is read, as it is a text value). */
export async function toParams(args: readonly FormArg[]): Promise<MultipartParam[]> {
  return Promise.all(
    args.map(async (arg) => {
      const typed = arg.type === undefined ? {} : { filetype: arg.type };
      if (arg.kind === 'file') return MultipartParam.fromFile(arg.name, arg.value, { ...typed, ...(arg.filename === undefined ? {} : { filename: arg.filename }) });
      if (arg.kind === 'contents') {
        let value: Buffer;
        try {
          value = await readFile(arg.value);
        } catch (cause) {
          throw new CliError('read', `cannot read ${JSON.stringify(arg.value)} for field ${JSON.stringify(arg.name)}: ${(cause as Error).message}`, cause);
        }
        return new MultipartParam(arg.name, { value, ...typed, ...(arg.filename === undefined ? {} : { filename: arg.filename }) });
      }
      return new MultipartParam(arg.name, { value: arg.value, ...typed, ...(arg.filename === undefined ? {} : { filename: arg.filename }) });
    }),
  );
}
