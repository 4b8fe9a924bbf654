import { MultipartError } from '../common/errors.js';
import { describe } from '../common/validate.js';
import { assertAttached } from './bytes.js';
import { isNestedForm } from './nesting.js';
import type { FieldValue, MultipartParamOptions, ParamsInput } from './param-options.js';
import type { MultipartParam } from './param.js';
import { isBlobLike, isStreamLike } from './sources.js';

/** How a param is made (the class's constructor) and recognised (its brand, either build's). */
export interface ParamMaker {
  make(name: string, options: MultipartParamOptions): MultipartParam;
  /** A plain text field: a string name and value, nothing else. */
  text(name: string, value: string): MultipartParam;
  isParam(value: unknown): value is MultipartParam;
}

/**
 * Every accepted input as a list of params: a list mixing params, `[name, value]` pairs and
 * `[name, value, filename]` triples, a mapping (an array value means several parts of that name),
 * or a FormData. A param given under a key must carry that key's name.
 */
export function paramsFrom(params: ParamsInput, maker: ParamMaker): MultipartParam[] {
  if (typeof params !== 'object' || params === null || typeof params === 'string') {
    throw new MultipartError(
      'ERR_INVALID_PARAMS',
      `params must be a list, a mapping or a FormData, not ${describe(params)}`,
    );
  }
  if (ArrayBuffer.isView(params) || params instanceof ArrayBuffer) {
    // Bytes are iterable (of numbers), and over a transferred buffer they throw a bare TypeError.
    throw new MultipartError(
      'ERR_INVALID_PARAMS',
      `params must be a list, a mapping or a FormData, not ${describe(params)}: send bytes as a field's value, or alone with rawBody()`,
    );
  }
  const result: MultipartParam[] = [];
  if (params instanceof Map || !(Symbol.iterator in params)) {
    const entries = params instanceof Map ? params.entries() : Object.entries(params);
    for (const [name, value] of entries as Iterable<[string, FieldValue | readonly FieldValue[]]>) {
      if (Array.isArray(value)) for (const item of value) result.push(toParam(maker, name, item as FieldValue));
      else result.push(toParam(maker, name, value as FieldValue));
    }
    return result;
  }
  for (const item of params as Iterable<unknown>) {
    if (maker.isParam(item)) result.push(item);
    else if (Array.isArray(item) && (item.length === 2 || item.length === 3))
      result.push(toParam(maker, item[0], item[1], item[2]));
    else {
      throw new MultipartError(
        'ERR_INVALID_PARAMS',
        `each item must be a MultipartParam, a [name, value] pair or [name, value, filename], not ${describe(item)}`,
      );
    }
  }
  return result;
}

function toParam(maker: ParamMaker, name: unknown, value: FieldValue, filename?: unknown): MultipartParam {
  if (typeof name !== 'string') {
    throw new MultipartError('ERR_INVALID_NAME', `a field name must be a string, not ${describe(name)}`);
  }
  if (filename !== undefined && typeof filename !== 'string') {
    throw new MultipartError(
      'ERR_INVALID_VALUE',
      `the filename in [name, value, filename] must be a string, not ${describe(filename)}`,
      { paramName: name },
    );
  }
  if (maker.isParam(value)) return namedParam(value, name, filename);
  if (typeof value === 'string' && filename === undefined) return maker.text(name, value);
  if (typeof value === 'string' || value instanceof Uint8Array)
    return maker.make(name, filename === undefined ? { value } : { value, filename });
  const named = filename === undefined ? {} : { filename };
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return maker.make(name, { value: String(value), ...named });
  if (value instanceof ArrayBuffer) {
    assertAttached(value, name);
    return maker.make(name, { value: new Uint8Array(value), ...named });
  }
  if (isBlobLike(value) || isStreamLike(value)) return maker.make(name, { fileobj: value, ...named });
  if (isNestedForm(value)) {
    if (filename !== undefined)
      throw new MultipartError('ERR_INVALID_PARAMS', 'a nested multipart body has no filename', { paramName: name });
    return maker.make(name, { value });
  }
  throw new MultipartError(
    'ERR_INVALID_VALUE',
    `unsupported value ${describe(value)}: give a string, a number, bytes (Uint8Array, Buffer, ArrayBuffer), a Blob or File, ` +
      'a stream, an encoded multipart body or a MultipartParam; for a file on disk, await MultipartParam.fromFile(name, path)',
    { paramName: name },
  );
}

/** A param given under a name (a mapping's key, a pair's first item) must carry that name, and its own filename. */
function namedParam(param: MultipartParam, name: string, filename: unknown): MultipartParam {
  if (param.name !== name) {
    throw new MultipartError(
      'ERR_INVALID_PARAMS',
      `the param given under this name is named ${JSON.stringify(param.name)}`,
      { paramName: name },
    );
  }
  if (filename !== undefined) {
    throw new MultipartError('ERR_INVALID_PARAMS', 'a MultipartParam carries its own filename; give it there', {
      paramName: name,
    });
  }
  return param;
}
