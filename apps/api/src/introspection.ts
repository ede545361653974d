// Validates reference (opaque) access tokens by asking the issuer (RFC 7662) as the `api` client.
// Accepts only an active access token for our audience; a result is reused until the token's exp
// or a short bound (how long a revoked token may still pass). Concurrent requests for one token
// share one call, and calls in flight are capped so a flood of made-up tokens cannot flood the IdP.
// A failed call opens a circuit breaker: for a short while every uncached token is answered 503
// at once, then one call probes the IdP and closes the breaker when it answers. Results are kept
// under a digest of the token, so the memory on this path is bounded by the cache size alone.
import { createHash } from 'node:crypto';
import {
  INTROSPECTION_BREAKER_OPEN_SECONDS, INTROSPECTION_CACHE_SIZE, INTROSPECTION_MAX_IN_FLIGHT, INTROSPECTION_NEGATIVE_TTL_SECONDS,
} from './defaults.ts';
import type { Authority } from './authority.ts';
import { fetchIdpJson } from './idp-client.ts';
import { principalFromClaims, type ClaimRules } from './access-token-claims.ts';
import { authUnavailable, BearerError, invalidToken } from './problem.ts';
import type { RefusalReason } from './refusal-reason.ts';
import type { Principal } from './principal.ts';

export interface IntrospectionSettings extends ClaimRules {
  clientId: string;
  clientSecret: string;
  /** Longest reuse of a positive result, in seconds; 0 disables caching. */
  cacheTtlSeconds: number;
  now?: () => number;
  /**
   * Told when the breaker opens (with the failure: the endpoint and what went wrong, never the
   * token) and when it closes again, so an outage or a refused secret shows in the log.
   */
  log?: (level: 'info' | 'warn', msg: string) => void;
}

/** RFC 6750 b64token: what an opaque token may look like at all. */
const OPAQUE_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

interface CacheEntry {
  principal: Principal | undefined;
  /** Why the token was refused, when it was: a replay is refused for the same reason. */
  refusal?: RefusalReason;
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
  /** Until when failed calls keep the breaker open (ms); -Infinity when closed. */
  private openUntil = -Infinity;
  /** A call probing whether the IdP answers again is in flight. */
  private probing = false;
  /** Calls made to the introspection endpoint (observability and tests). */
  calls = 0;

  constructor(settings: IntrospectionSettings, authority: Authority) {
    this.s = settings;
    this.authority = authority;
    this.now = settings.now ?? Date.now;
  }

  introspect(token: string): Principal | Promise<Principal> {
    if (!OPAQUE_TOKEN.test(token)) throw invalidToken('token_malformed');
    const nowMs = this.now();
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.cache.get(key);
    if (hit) {
      if (nowMs < hit.untilMs && (hit.principal === undefined || nowMs < hit.principal.expiresAt * 1000)) {
        if (hit.principal === undefined) throw invalidToken(hit.refusal ?? 'token_inactive');
        return hit.principal;
      }
      this.cache.delete(key);
    }
    const shared = this.pending.get(key);
    if (shared) return shared;
    const endpoint = this.authority.metadata?.introspection_endpoint;
    if (endpoint === undefined) throw this.authority.metadata ? invalidToken('introspection_unsupported') : authUnavailable('keys_unavailable');
    if (this.openUntil > -Infinity) {
      // The breaker is open: 503 until it may probe, and while the one probe is out.
      if (nowMs < this.openUntil) throw authUnavailable('introspection_unavailable', Math.ceil((this.openUntil - nowMs) / 1000));
      if (this.probing) throw authUnavailable('introspection_unavailable', INTROSPECTION_BREAKER_OPEN_SECONDS);
      this.probing = true;
    }
    if (this.pending.size >= INTROSPECTION_MAX_IN_FLIGHT) throw authUnavailable('introspection_overloaded');
    const call = this.call(endpoint, token, key).finally(() => this.pending.delete(key));
    this.pending.set(key, call);
    return call;
  }

  /** Whether failed introspections currently answer 503 without asking the IdP. */
  get breakerOpen(): boolean {
    return this.openUntil > -Infinity;
  }

  private async call(endpoint: string, token: string, key: string): Promise<Principal> {
    let body: Record<string, unknown>;
    try {
      this.calls++;
      body = await fetchIdpJson(endpoint, {
        method: 'POST',
        headers: { authorization: basicAuth(this.s.clientId, this.s.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      });
    } catch (err) {
      // Once per outage: calls that were in flight as it opened, and the probes, add no line.
      if (this.openUntil === -Infinity) {
        this.s.log?.('warn', `introspection failed (${(err as Error).message}); uncached reference tokens are answered 503 until it answers again`);
      }
      this.openUntil = this.now() + INTROSPECTION_BREAKER_OPEN_SECONDS * 1000;
      this.probing = false;
      throw authUnavailable('introspection_unavailable', INTROSPECTION_BREAKER_OPEN_SECONDS);
    }
    if (this.openUntil > -Infinity) this.s.log?.('info', 'introspection answers again');
    this.openUntil = -Infinity;
    this.probing = false;
    let principal: Principal;
    try {
      principal = this.check(body);
    } catch (err) {
      this.remember(key, undefined, INTROSPECTION_NEGATIVE_TTL_SECONDS * 1000, err instanceof BearerError ? err.reason : 'validation_error');
      throw err;
    }
    this.remember(key, principal, this.s.cacheTtlSeconds * 1000);
    return principal;
  }

  /** Cached results (observability and tests). */
  get cacheSize(): number {
    return this.cache.size;
  }

  private remember(key: string, principal: Principal | undefined, ttlMs: number, refusal?: RefusalReason): void {
    if (ttlMs <= 0) return;
    if (this.cache.size >= INTROSPECTION_CACHE_SIZE) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(key, { principal, refusal, untilMs: this.now() + ttlMs });
  }

  private check(r: Record<string, unknown>): Principal {
    if (r.active !== true) throw invalidToken('token_inactive');
    // RFC 7662 token_type is the RFC 6749 type of an access token; refresh tokens have none (or another).
    if (typeof r.token_type !== 'string' || r.token_type.toLowerCase() !== 'bearer') throw invalidToken('not_access_token');
    return principalFromClaims({ ...r }, this.s, 'introspection', this.now());
  }
}
