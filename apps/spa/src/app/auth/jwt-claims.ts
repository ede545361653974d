/** The payload of a JWT, without verifying it: for display and timing only, never for trust. */
export function decodeJwtPayload(token: string | null | undefined): Record<string, unknown> | null {
  const part = token?.split('.')[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const json = new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A NumericDate claim (seconds) as epoch milliseconds. */
export function claimTime(claims: Record<string, unknown> | null, name: string): number | null {
  const value = claims?.[name];
  return typeof value === 'number' && Number.isFinite(value) ? value * 1000 : null;
}
