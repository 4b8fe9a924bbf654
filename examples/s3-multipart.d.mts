/** Types for the recipe in s3-multipart.mjs (plain JavaScript, as a user copies it). */
export function uploadInParts(
  path: string,
  objectUrl: string,
  options?: { partSize?: number; concurrency?: number; headers?: Record<string, string> },
): Promise<unknown>;
