import type { AuthUser, RenewalRecord, SessionDetails } from '../auth-session';

/** The BFF's answer to GET /bff/user and POST /bff/renew (times in epoch milliseconds). */
export interface BffUser {
  readonly sub: string;
  readonly name: string;
  readonly email?: string;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly scopes: readonly string[];
  readonly loggedInAt: number;
  readonly sessionExpiresAt: number;
  readonly accessTokenIssuedAt: number;
  readonly accessTokenExpiresAt: number;
  /** Null when the session has no refresh token. */
  readonly renewsAt: number | null;
  readonly lastRenewal: RenewalRecord | null;
}

/** Checks the body of /bff/user: a malformed answer is a broken server, not a signed-in user. */
export function parseBffUser(value: unknown): BffUser {
  if (typeof value !== 'object' || value === null) throw new Error('/bff/user: not an object');
  const r = value as Record<string, unknown>;
  const text = (field: string) => {
    if (typeof r[field] !== 'string' || r[field] === '') throw new Error(`/bff/user: "${field}" must be a non-empty string`);
    return r[field] as string;
  };
  const time = (field: string, nullable = false): number | null => {
    const v = r[field];
    if (nullable && (v === null || v === undefined)) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`/bff/user: "${field}" must be a time in milliseconds`);
    return v;
  };
  const claims = r['claims'];
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new Error('/bff/user: "claims" must be an object');
  const scopes = r['scopes'];
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) throw new Error('/bff/user: "scopes" must be a list of strings');
  return {
    sub: text('sub'),
    name: typeof r['name'] === 'string' && r['name'] !== '' ? r['name'] : text('sub'),
    ...(typeof r['email'] === 'string' ? { email: r['email'] } : {}),
    claims: claims as Record<string, unknown>,
    scopes: scopes as string[],
    loggedInAt: time('loggedInAt')!,
    sessionExpiresAt: time('sessionExpiresAt')!,
    accessTokenIssuedAt: time('accessTokenIssuedAt')!,
    accessTokenExpiresAt: time('accessTokenExpiresAt')!,
    renewsAt: time('renewsAt', true),
    lastRenewal: parseRenewal(r['lastRenewal']),
  };
}

function parseRenewal(value: unknown): RenewalRecord | null {
  if (value === null || value === undefined) return null;
  const r = value as Record<string, unknown>;
  if (typeof r['at'] !== 'number' || typeof r['ok'] !== 'boolean') throw new Error('/bff/user: "lastRenewal" must have "at" and "ok"');
  return { at: r['at'], ok: r['ok'], ...(typeof r['detail'] === 'string' ? { detail: r['detail'] } : {}) };
}

export function toAuthUser(user: BffUser): AuthUser {
  return { sub: user.sub, name: user.name, ...(user.email !== undefined ? { email: user.email } : {}), claims: user.claims };
}

/** The session page's timeline, as the BFF reports it. */
export function toSessionDetails(user: BffUser): SessionDetails {
  return {
    scopes: user.scopes,
    loggedInAt: user.loggedInAt,
    accessTokenIssuedAt: user.accessTokenIssuedAt,
    accessTokenExpiresAt: user.accessTokenExpiresAt,
    renewsAt: user.renewsAt,
    lastRenewal: user.lastRenewal,
  };
}
