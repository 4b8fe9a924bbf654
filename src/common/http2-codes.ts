/**
 * RFC 9113 §7: the error codes of RST_STREAM and GOAWAY, by number. upload() names a reset by its
 * code (`cause.code`); the CLI knows an HTTP/2 failure by these names (curl's exit 92).
 */
export const HTTP2_ERROR_NAMES: readonly string[] = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/** The RFC's name of an HTTP/2 error code (`UNKNOWN_0x2a` for one it does not define). */
export function http2CodeName(code: number): string {
  return HTTP2_ERROR_NAMES[code] ?? `UNKNOWN_0x${code.toString(16)}`;
}
