// Validates reference (opaque) access tokens by asking the issuer (RFC 7662) as the `api` client.
// Accepts only an active access token for our audience; a result is reused until the token's exp
// or a short bound (how long a revoked token may still pass). Concurrent requests for one token
// share one call, and calls in flight are capped so a flood of made-up tokens cannot flood the IdP.
import { INTROSPECTION_CACHE_SIZE, INTROSPECTION_MAX_IN_FLIGHT, INTROSPECTION_NEGATIVE_TTL_SECONDS } from './defaults.ts';
import type { Authority } from './authority.ts';
import { fetchJsonObject } from './idp-http.ts';
import { authUnavailable, invalidToken } from './problem.ts';
import { parseScope, type Principal } from './principal.ts';

export interface IntrospectionSettings {
  issuer: string;
  audience: string;
  clientId: string;
  clientSecret: string;
  /** Longest reuse of a positive result, in seconds; 0 disables caching. */
  cacheTtlSeconds: number;
  clockToleranceSeconds: number;
  now?: () => number;
}

/** RFC 6750 b64token: what an opaque token may look like at all. */
const OPAQUE_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

interface CacheEntry {
  principal: Principal | undefined;
  untilMs: number;
}

/** RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before base64. */
function basicAuth(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

export class Introspector {
  private readonly s: IntrospectionSettings;
  private readonly authority: Authority;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly pending = new Map<string, Promise<Principal>>();
  private readonly now: () => number;
  /** Calls made to the introspection endpoint (observability and tests). */
  calls = 0;

  constructor(settings: IntrospectionSettings, authority: Authority) {
    this.s = settings;
    this.authority = authority;
    this.now = settings.now ?? Date.now;
  }

  introspect(token: string): Principal | Promise<Principal> {
    if (!OPAQUE_TOKEN.test(token)) throw invalidToken('not a token');
    const nowMs = this.now();
    const hit = this.cache.get(token);
    if (hit) {
      if (nowMs < hit.untilMs && (hit.principal === undefined || nowMs < hit.principal.expiresAt * 1000)) {
        if (hit.principal === undefined) throw invalidToken('inactive (cached)');
        return hit.principal;
      }
      this.cache.delete(token);
    }
    const shared = this.pending.get(token);
    if (shared) return shared;
    const endpoint = this.authority.metadata?.introspection_endpoint;
    if (endpoint === undefined) throw this.authority.metadata ? invalidToken('issuer offers no introspection') : authUnavailable('issuer metadata not loaded yet');
    if (this.pending.size >= INTROSPECTION_MAX_IN_FLIGHT) throw authUnavailable('too many introspections in flight');
    const call = this.call(endpoint, token).finally(() => this.pending.delete(token));
    this.pending.set(token, call);
    return call;
  }

  private async call(endpoint: string, token: string): Promise<Principal> {
    let body: Record<string, unknown>;
    try {
      this.calls++;
      body = await fetchJsonObject(endpoint, {
        method: 'POST',
        headers: { authorization: basicAuth(this.s.clientId, this.s.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      });
    } catch {
      throw authUnavailable('introspection failed');
    }
    let principal: Principal;
    try {
      principal = this.check(body);
    } catch (err) {
      this.remember(token, undefined, INTROSPECTION_NEGATIVE_TTL_SECONDS * 1000);
      throw err;
    }
    this.remember(token, principal, this.s.cacheTtlSeconds * 1000);
    return principal;
  }

  private remember(token: string, principal: Principal | undefined, ttlMs: number): void {
    if (ttlMs <= 0) return;
    if (this.cache.size >= INTROSPECTION_CACHE_SIZE) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(token, { principal, untilMs: this.now() + ttlMs });
  }

  private check(r: Record<string, unknown>): Principal {
    if (r.active !== true) throw invalidToken('inactive');
    // RFC 7662 token_type is the RFC 6749 type of an access token; refresh tokens have none (or another).
    if (typeof r.token_type !== 'string' || r.token_type.toLowerCase() !== 'bearer') throw invalidToken('not a bearer access token');
    if (r.cnf !== undefined) throw invalidToken('sender-constrained token used as bearer');
    if (r.iss !== undefined && r.iss !== this.s.issuer) throw invalidToken('iss');
    const aud = r.aud;
    const audOk = typeof aud === 'string' ? aud === this.s.audience : Array.isArray(aud) && aud.includes(this.s.audience);
    if (!audOk) throw invalidToken('aud');
    const now = this.now() / 1000;
    const tol = this.s.clockToleranceSeconds;
    if (typeof r.exp !== 'number' || now - tol >= r.exp) throw invalidToken('exp');
    if (r.nbf !== undefined && (typeof r.nbf !== 'number' || now + tol < r.nbf)) throw invalidToken('nbf');
    if (typeof r.sub !== 'string' || r.sub.length === 0) throw invalidToken('sub');
    if (r.scope !== undefined && typeof r.scope !== 'string') throw invalidToken('scope');
    if (r.client_id !== undefined && typeof r.client_id !== 'string') throw invalidToken('client_id');
    return {
      subject: r.sub,
      clientId: r.client_id as string | undefined,
      scopes: parseScope(r.scope as string | undefined),
      expiresAt: r.exp,
      tokenKind: 'reference',
      claims: Object.freeze({ ...r }),
    };
  }
}
