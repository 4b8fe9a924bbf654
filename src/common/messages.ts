/**
 * The message of anything thrown: an Error's own message, else the value as text. Never throws
 * itself: a caller's callback may throw an object with no prototype, or a Proxy whose every trap
 * throws, and the error that reports it must still be made.
 */
export function messageOf(cause: unknown): string {
  try {
    if (cause instanceof Error) return String(cause.message);
    if (typeof cause === 'object' && cause !== null) {
      const message = (cause as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
    return String(cause);
  } catch {
    return `a thrown ${typeof cause} that cannot be shown as text`;
  }
}

/**
 * A URL as a message may show it: a user name and password before its host become `***`. For the
 * text of a URL that may not parse, in every spelling the WHATWG parser takes (`http:user:pw@h`,
 * `http:\\user:pw@h`, leading spaces): only the authority is looked at, never the path.
 */
export function withoutPassword(url: string): string {
  return url.replace(/^(\s*[a-z][a-z\d+.-]*:[/\\]*)[^\s/\\?#@]*@/i, '$1***@');
}

/**
 * Query parameters whose values sign a URL or carry a credential: S3's and Google Cloud Storage's
 * presigned URLs (and S3's older query signature), Azure's SAS `sig`, an API `key`, an OAuth
 * `access_token`. Such a URL is a capability for as long as it is valid, often days.
 */
const SIGNING_PARAMETERS = new Set([
  'x-amz-signature',
  'x-amz-security-token',
  'x-amz-credential',
  'x-goog-signature',
  'x-goog-credential',
  'signature',
  'sig',
  'access_token',
  'key',
]);

/**
 * A query parameter wherever a URL stands in a text: after `?`, `&`, `;` or an HTML-escaped `&amp;`,
 * its name in any case and percent-encoding (a server decodes `X%2DAmz%2DSignature` as the name).
 */
const QUERY_PARAMETER = /((?:[?&;]|&amp;)((?:[\w.~-]|%[\da-f]{2})+)=)([^&#;\s"'<>`]*)/gi;

/** A parameter's name as a server reads it: percent-decoded (as it stands when that fails), in lower case. */
function parameterName(name: string): string {
  try {
    return decodeURIComponent(name).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}

/**
 * Text as a message may show it: the value of every signing parameter in a URL's query becomes
 * `***`, wherever in the text the URL stands. Messages end up in logs and bug reports.
 */
export function withoutSignatures(text: string): string {
  return text.replace(QUERY_PARAMETER, (whole, head: string, name: string) =>
    SIGNING_PARAMETERS.has(parameterName(name)) ? `${head}***` : whole,
  );
}
