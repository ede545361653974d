// Verification of OpenID Connect Back-Channel Logout tokens (OIDC Back-Channel Logout 1.0, §2.6):
// a JWT signed by the IdP (key from its JWKS), typ logout+jwt, for this client, recent, carrying
// the back-channel logout event and a `sid` or `sub`, never a `nonce` (so an ID token cannot be
// passed off as one), and a `jti` used once. openid-client has no such check; jose does the JWS.
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Remembers logout-token ids until their expiry, on every instance sharing the store. */
export interface ReplayGuard {
  /** True the first time `id` is presented before `expiresAt` (epoch ms), false on every later try. */
  firstUse(id: string, expiresAt: number): Promise<boolean>;
}

export interface LogoutTokenPolicy {
  issuer: string;
  /** The BFF's client id: the token's `aud` must name it. */
  clientId: string;
  algorithms: readonly string[];
  /** Oldest `iat` accepted, in seconds before now. */
  maxAgeSeconds: number;
  /** Clock skew tolerated on `iat` and `exp`, in seconds. */
  clockToleranceSeconds: number;
}

export interface LogoutTokenVerifierDeps {
  policy: LogoutTokenPolicy;
  /** The IdP's signing keys (createRemoteJWKSet on its jwks_uri). */
  keys: JWTVerifyGetKey;
  replay: ReplayGuard;
  /** Clock in milliseconds. */
  now: () => number;
}

/** Whose sessions a verified logout token ends: the IdP session `sid`, else every session of `sub`. */
export interface LogoutTarget {
  sid?: string;
  sub?: string;
}

/** The logout token is not acceptable; `reason` is safe to log and to answer (no token content). */
export class InvalidLogoutTokenError extends Error {
  readonly error = 'invalid_request';
  readonly reason: string;
  constructor(reason: string) {
    super(`invalid logout token: ${reason}`);
    this.reason = reason;
    this.name = 'InvalidLogoutTokenError';
  }
}

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

export function createLogoutTokenVerifier(deps: LogoutTokenVerifierDeps): (token: unknown) => Promise<LogoutTarget> {
  const { policy, keys, replay, now } = deps;
  return async (token) => {
    if (!nonEmptyString(token)) throw new InvalidLogoutTokenError('logout_token is missing');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: policy.issuer,
        audience: policy.clientId,
        typ: 'logout+jwt',
        algorithms: [...policy.algorithms],
        requiredClaims: ['iat', 'exp', 'jti', 'events'],
        maxTokenAge: policy.maxAgeSeconds,
        clockTolerance: policy.clockToleranceSeconds,
        currentDate: new Date(now()),
      }));
    } catch (err) {
      throw new InvalidLogoutTokenError(describeJoseError(err));
    }
    const events = payload['events'];
    if (typeof events !== 'object' || events === null || Array.isArray(events)) throw new InvalidLogoutTokenError('events is not an object');
    const event = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT];
    if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new InvalidLogoutTokenError('events lacks the back-channel logout event');
    if ('nonce' in payload) throw new InvalidLogoutTokenError('a logout token must not carry a nonce');
    const { sid, sub } = payload as { sid?: unknown; sub?: unknown };
    if (sid !== undefined && !nonEmptyString(sid)) throw new InvalidLogoutTokenError('sid is not a string');
    if (sub !== undefined && !nonEmptyString(sub)) throw new InvalidLogoutTokenError('sub is not a string');
    if (sid === undefined && sub === undefined) throw new InvalidLogoutTokenError('neither sid nor sub');
    if (!nonEmptyString(payload.jti)) throw new InvalidLogoutTokenError('jti is not a string');
    // Remembered until no clock could still accept the token; checked last, so that an invalid
    // token never uses up an id.
    const acceptableUntil = Math.max(payload.exp!, payload.iat! + policy.maxAgeSeconds) + policy.clockToleranceSeconds;
    if (!(await replay.firstUse(`${policy.issuer} ${payload.jti}`, acceptableUntil * 1000))) throw new InvalidLogoutTokenError('jti already used');
    return { ...(sid !== undefined ? { sid } : {}), ...(sub !== undefined ? { sub } : {}) };
  };
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return `${err.claim}: too old`;
  if (err instanceof errors.JWTClaimValidationFailed) return `${err.claim}: ${err.reason}`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the IdP matches';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof errors.JOSEError) return err.code;
  throw err;
}
