// The consent a first-party client gets without a page (as Auth0's first-party applications skip
// consent): what the request asks for is added to the user's grant, API scopes only as far as the
// user holds them (Auth0's RBAC: bob's are rejected). Used by the consent interaction of an
// interactive login (interactions.ts) and by a silent login, which cannot show a page (provider.ts).
import type { Grant, KoaContextWithOIDC } from 'oidc-provider';

/** What a request asks for that its grant has not seen, as oidc-provider's consent prompt details it. */
export interface MissingConsent {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

/** Claims oidc-provider never asks consent for (its op_claims_missing check). */
const CLAIMS_WITHOUT_CONSENT: ReadonlySet<string> = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);

/**
 * What the authorization request in `ctx` asks for beyond `grant`: the same three sets oidc-provider's
 * consent checks compute (op_scopes_missing, op_claims_missing, rs_scopes_missing).
 */
export function missingConsent(ctx: KoaContextWithOIDC, grant: Grant): MissingConsent {
  const { oidc } = ctx;
  const seenScopes = new Set(grant.getOIDCScopeEncountered().split(' '));
  const seenClaims = new Set(grant.getOIDCClaimsEncountered());
  const missing: MissingConsent = {};
  const scopes = [...oidc.requestParamOIDCScopes].filter((s) => !seenScopes.has(s));
  if (scopes.length) missing.missingOIDCScope = scopes;
  const claims = [...oidc.requestParamClaims].filter((c) => !seenClaims.has(c) && !CLAIMS_WITHOUT_CONSENT.has(c));
  if (claims.length) missing.missingOIDCClaims = claims;
  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
    const seen = new Set(grant.getResourceScopeEncountered(indicator).split(' '));
    const asked = [...oidc.requestParamScopes].filter((s) => server.scopes.has(s) && !seen.has(s));
    if (asked.length) (missing.missingResourceScopes ??= {})[indicator] = asked;
  }
  return missing;
}

export function isNothingMissing(missing: MissingConsent): boolean {
  return !missing.missingOIDCScope && !missing.missingOIDCClaims && !missing.missingResourceScopes;
}

/** Adds `missing` to `grant`: every OpenID scope and claim, the API scopes in `apiScopes`, the others rejected. */
export function grantImpliedConsent(grant: Grant, missing: MissingConsent, apiScopes: readonly string[]): void {
  if (missing.missingOIDCScope?.length) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims?.length) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    const allowed = scopes.filter((s) => apiScopes.includes(s));
    const rejected = scopes.filter((s) => !apiScopes.includes(s));
    if (allowed.length) grant.addResourceScope(indicator, allowed.join(' '));
    if (rejected.length) grant.rejectResourceScope(indicator, rejected.join(' '));
  }
}
