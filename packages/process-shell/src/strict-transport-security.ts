// Strict-Transport-Security of every app (docs/decisions/0059): sent when the app's own public URL
// is https://, whatever scheme the request reached the process by (TLS usually ends at a proxy in
// front of it), and never when that URL is http:// (a browser would then refuse plain http for the
// host, localhost's other ports included). Each app names its max-age in its defaults.ts.

/** Longest max-age an app's configuration accepts: two years. */
export const HSTS_MAX_AGE_LIMIT_SECONDS = 2 * 365 * 24 * 3600;

/**
 * The Strict-Transport-Security value for an app whose browser-facing URL is `publicUrl`, or
 * undefined when that URL is not https://. A max-age of 0 is sent as it is: it tells a browser to
 * forget the policy an earlier answer gave (RFC 6797 §6.1.1).
 */
export function strictTransportSecurity(publicUrl: string | undefined, maxAgeSeconds: number): string | undefined {
  if (publicUrl === undefined || !publicUrl.toLowerCase().startsWith('https://')) return undefined;
  return `max-age=${maxAgeSeconds}`;
}
