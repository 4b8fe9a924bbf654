/**
 * Bytes read from a file at a time when one upload streams alone in this process and its body was
 * encoded with the default block size. Each file block costs a round trip to the thread pool and a
 * write; larger blocks spend less CPU per byte on the way to a socket, and with one upload in
 * flight the few blocks it holds (the one the socket writes, the one read ahead) stay small
 * beside the process. With more at once, each keeps the body's own block size, so many uploads
 * hold no more than before (see bench/README.md, W5 and W7).
 */
export const LONE_UPLOAD_READ_BYTES = 4 * 1024 * 1024;

let bodiesStreaming = 0;

/**
 * Counts a body as streaming until `release()`: the read size for its files is the larger one
 * when no other upload body is streaming at that moment (undefined: the body's own).
 */
export function claimReadSize(): { readSize: number | undefined; release: () => void } {
  const readSize = bodiesStreaming === 0 ? LONE_UPLOAD_READ_BYTES : undefined;
  bodiesStreaming++;
  let released = false;
  return {
    readSize,
    release: () => {
      if (released) return;
      released = true;
      bodiesStreaming--;
    },
  };
}
