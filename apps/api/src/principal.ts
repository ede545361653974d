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
  /**
   * The last policy this principal passed, remembered by the policy (policies.ts): a verdict
   * depends on the principal alone, which never changes, and a cached principal comes back with
   * every request of its token.
   */
  admittedBy?: object;
}

const NO_SCOPES: ReadonlySet<string> = new Set();

export function parseScope(scope: string | undefined): ReadonlySet<string> {
  if (!scope) return NO_SCOPES;
  const scopes = new Set(scope.split(' '));
  // Runs of spaces, or a leading or trailing one, leave empty strings: no scope.
  scopes.delete('');
  return scopes;
}
