// Why a request was refused, as one stable code per check (in the spirit of jose's error codes).
// The code is logged and reported to observers, never sent: every bad token gets the same
// `invalid_token` answer, so a forger learns nothing from it. Tests and dashboards match these
// codes, so a code is renamed only together with everything that reads it.

export const REFUSAL_REASONS = {
  // No usable credentials, or credentials sent in a way RFC 6750 forbids.
  token_missing: 'no bearer token (or another scheme)',
  credentials_malformed: 'Authorization: Bearer without exactly one token after one space',
  credentials_duplicated: 'several Authorization headers, or a header and a query token',
  token_too_long: 'longer than AUTH_MAX_TOKEN_LENGTH',
  // The token as a whole.
  token_malformed: 'not a compact JWS (or, as a reference token, not an RFC 6750 b64token of at least 22 characters), or a part not base64url JSON',
  alg_refused: 'alg not on the allowlist',
  typ_refused: 'typ not an accepted token type',
  header_member_refused: 'jku, x5u, x5c, jwk, crit, enc, zip, cty, b64 … in the JOSE header',
  kid_malformed: 'kid not a non-empty string of bounded length',
  key_unknown: 'no key of the issuer\'s JWKS fits kid and alg',
  signature_invalid: 'signature length or value wrong',
  // The claims (one validator for JWTs and introspection answers: access-token-claims.ts).
  issuer_mismatch: 'iss not exactly the configured issuer',
  audience_mismatch: 'aud does not contain our API identifier, or is not strings',
  expired: 'exp passed',
  exp_missing: 'no exp',
  not_yet_valid: 'nbf in the future',
  issued_in_future: 'iat in the future',
  claim_malformed: 'sub empty or not well-formed Unicode (a lone surrogate), or exp, nbf, iat, scope, azp, client_id, jti of the wrong type',
  claim_missing: 'a claim the token profile requires is absent (RFC 9068: client_id, iat, jti; Auth0: azp; introspection: azp or client_id; all: sub)',
  client_mismatch: 'azp and client_id both present and different',
  sender_constrained: 'a proof-of-possession token (cnf) presented as a plain bearer token',
  // Introspection answers.
  token_inactive: 'introspection says inactive (revoked, expired, unknown)',
  not_access_token: 'introspection says it is not a bearer access token (a refresh token)',
  introspection_unsupported: 'the issuer has no introspection endpoint, so an opaque token cannot be valid',
  // Not the caller's fault: 503.
  keys_unavailable: 'issuer metadata or signing keys not loaded yet',
  introspection_unavailable: 'introspection call failed (IdP down, refused our credentials, timed out)',
  introspection_overloaded: 'too many introspections in flight',
  // Authorization (the token was valid).
  scope_missing: 'the route\'s policy needs a scope the token lacks',
  client_not_allowed: 'azp/client_id not among the policy\'s allowed clients',
  claim_not_satisfied: 'a claim requirement of the policy failed',
  user_required: 'a token issued to a client alone (client_credentials: gty client-credentials, or sub naming the client) at a route that acts for a user',
  service_required: 'a token issued for a user at a route only machine-to-machine clients may call',
  // A bug in validation fails closed.
  validation_error: 'unexpected exception while validating',
} as const;

export type RefusalReason = keyof typeof REFUSAL_REASONS;
