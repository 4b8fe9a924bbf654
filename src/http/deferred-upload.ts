import { onFirstUse } from '../common/lazy.js';
import type { EncodedBody } from '../multipart/encode.js';
import type { ParamsInput } from '../multipart/param.js';
import type { SelfEncodingForm, UploadOptions } from './upload.js';

// The HTTP client (and node:net with it) is a chunk of its own, loaded by the first upload: a
// process that only encodes never compiles it. upload() checks nothing synchronously, so its
// promise is the same whether the chunk was loaded already or not.
const http = onFirstUse(() => import('./loaded.js'));

/**
 * Uploads a form (anything `multipartEncode` takes) or an encoded body
 * (`multipartEncode`'s or `rawBody`'s result) and resolves to the final WHATWG
 * Response. Sends an exact Content-Length, follows redirects as browsers do
 * (307/308 re-send the same bytes), stops sending when the server answers early,
 * and closes every file and socket on abort or failure.
 */
export function upload(
  url: string | URL,
  params: ParamsInput | EncodedBody,
  options?: UploadOptions,
): Promise<Response>;
/** A FormData of multipart-poster/form-data, with its boundary and exact length. */
export function upload(url: string | URL, form: SelfEncodingForm, options?: UploadOptions): Promise<Response>;
export function upload(
  url: string | URL,
  params: ParamsInput | EncodedBody | SelfEncodingForm,
  options?: UploadOptions,
): Promise<Response> {
  const loaded = http.loaded;
  if (loaded !== undefined) return loaded.upload(url, params, options);
  return http().then((module) => module.upload(url, params, options));
}
