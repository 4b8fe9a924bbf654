/** Types for the recipe in s3-multipart.mjs (plain JavaScript, as a user copies it). */
export function uploadInParts(
  path: string,
  partUrl: (partNumber: number) => string | URL | Promise<string | URL>,
  options?: { partSize?: number; concurrency?: number },
): Promise<Array<{ PartNumber: number; ETag: string }>>;
