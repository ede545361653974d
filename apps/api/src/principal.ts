// Who is calling, as established from a validated access token (JWT or introspected reference).

export interface Principal {
  /** `sub`: the user (or, for client-credentials tokens, the client). */
  readonly subject: string;
  /** The client the token was issued to: `azp`, else `client_id`. */
  readonly clientId: string | undefined;
  /** The granted scopes (the space-separated `scope` claim). */
  readonly scopes: ReadonlySet<string>;
  /** `exp`, in seconds since the epoch. */
  readonly expiresAt: number;
  readonly tokenKind: 'jwt' | 'reference';
  /** Every claim, for requirements on other claims. Frozen. */
  readonly claims: Readonly<Record<string, unknown>>;
}

const NO_SCOPES: ReadonlySet<string> = new Set();

export function parseScope(scope: string | undefined): ReadonlySet<string> {
  if (!scope) return NO_SCOPES;
  return new Set(scope.split(' ').filter((s) => s.length > 0));
}
