// The one set of claim rules for an access token, whether its claims come from a verified JWT
// (verify-access-token.ts) or from an introspection answer (introspection.ts), so the two paths
// can never disagree on what a valid token is. Which claims must be present depends on the token
// profile: RFC 9068 (typ at+jwt) requires client_id, iat and jti; Auth0's own profile (typ JWT)
// names the client in azp; an introspection answer (RFC 7662) may omit iss and names its client in
// either.
import type { RefusalReason } from './refusal-reason.ts';
import { invalidToken } from './problem.ts';
import { parseScope, type Principal } from './principal.ts';

export type TokenProfile = 'rfc9068' | 'auth0' | 'other-jwt' | 'introspection';

export interface ClaimRules {
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
}

/** Claims each profile requires beyond iss, aud, exp and sub. */
const REQUIRED_BY_PROFILE: Record<TokenProfile, readonly string[]> = {
  rfc9068: ['client_id', 'iat', 'jti'], // RFC 9068 §2.2
  auth0: ['azp'], // Auth0's access-token profile: the client is azp, there is no client_id
  'other-jwt': [],
  introspection: [],
};

/**
 * Profiles whose tokens must name the client they were issued to, in azp or client_id: an access
 * token always has one, and policies judge it. RFC 9068 and Auth0 name it by the claims above; an
 * introspection answer (RFC 7662 makes client_id optional) in either, so that it is judged as its
 * JWT would be (decision 0018). Other typ values allowed by configuration get only the common rules.
 */
const CLIENT_REQUIRED: ReadonlySet<TokenProfile> = new Set(['rfc9068', 'auth0', 'introspection']);

/** The profile a JWT follows, by its (normalised) JOSE typ. */
export function profileOfTyp(normalizedTyp: string): TokenProfile {
  if (normalizedTyp === 'at+jwt') return 'rfc9068';
  if (normalizedTyp === 'jwt') return 'auth0';
  return 'other-jwt';
}

function fail(reason: RefusalReason): never {
  throw invalidToken(reason);
}

function optionalString(claims: Record<string, unknown>, name: string): string | undefined {
  const v = claims[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail('claim_malformed');
  return v;
}

function optionalNumericDate(claims: Record<string, unknown>, name: string): number | undefined {
  const v = claims[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail('claim_malformed');
  return v;
}

/** aud is our identifier, or an array of strings containing it (Auth0 adds <issuer>userinfo). */
function audienceContains(aud: unknown, audience: string): boolean {
  if (typeof aud === 'string') return aud === audience;
  return Array.isArray(aud) && aud.every((a) => typeof a === 'string') && aud.includes(audience);
}

/**
 * The principal the claims describe, or throws invalid_token with the reason. `nowMs` is the
 * caller's clock. When both azp and client_id are present they must be the same client; the
 * principal's client is then either (azp first, as Auth0 names it).
 */
export function principalFromClaims(claims: Record<string, unknown>, rules: ClaimRules, profile: TokenProfile, nowMs: number): Principal {
  const iss = claims.iss;
  if (profile === 'introspection' ? iss !== undefined && iss !== rules.issuer : iss !== rules.issuer) fail('issuer_mismatch');
  if (!audienceContains(claims.aud, rules.audience)) fail('audience_mismatch');

  const now = nowMs / 1000;
  const tolerance = rules.clockToleranceSeconds;
  const exp = optionalNumericDate(claims, 'exp');
  if (exp === undefined) fail('exp_missing');
  if (now - tolerance >= exp) fail('expired');
  const nbf = optionalNumericDate(claims, 'nbf');
  if (nbf !== undefined && now + tolerance < nbf) fail('not_yet_valid');
  const iat = optionalNumericDate(claims, 'iat');
  if (iat !== undefined && now + tolerance < iat) fail('issued_in_future');

  const sub = optionalString(claims, 'sub');
  if (!sub) fail(sub === undefined ? 'claim_missing' : 'claim_malformed');
  // The subject keys the user's data in SQLite, which stores text as UTF-8 and writes a lone UTF-16
  // surrogate (JSON's "\ud800") as U+FFFD: "u\ud800", "u\udfff" and "u\ufffd" would be one user.
  if (!sub.isWellFormed()) fail('claim_malformed');
  const azp = optionalString(claims, 'azp');
  const clientId = optionalString(claims, 'client_id');
  if (azp !== undefined && clientId !== undefined && azp !== clientId) fail('client_mismatch');
  optionalString(claims, 'jti');
  const scope = optionalString(claims, 'scope');
  // RFC 9449 §7.2 (and RFC 8705): a token bound to a key is refused without the proof of
  // possession, and this API checks no proof, so any confirmation claim is refused.
  if (claims.cnf !== undefined) fail('sender_constrained');
  for (const name of REQUIRED_BY_PROFILE[profile]) {
    if (claims[name] === undefined) fail('claim_missing');
  }
  if (azp === undefined && clientId === undefined && CLIENT_REQUIRED.has(profile)) fail('claim_missing');

  return {
    subject: sub,
    clientId: azp ?? clientId,
    scopes: parseScope(scope),
    expiresAt: exp,
    tokenKind: profile === 'introspection' ? 'reference' : 'jwt',
    claims: Object.freeze(claims),
    admittedBy: undefined,
  };
}
