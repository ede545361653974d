// Validates reference (opaque) access tokens by asking the issuer (RFC 7662) as the `api` client.
// Accepts only an active access token for our audience; a result is reused until the token's exp
// or a short bound (how long a revoked token may still pass). Concurrent requests for one token
// share one call, and calls in flight are capped so a flood of made-up tokens cannot flood the IdP.
// A failed call opens a circuit breaker: for a short while every uncached token is answered 503
// at once, then one call probes the IdP and closes the breaker when it answers. Results are kept
// under a digest of the token, so the memory on this path is bounded by the cache sizes alone.
//
// Made-up tokens cost as little as they can and take nothing from real ones (decision 0057): what
// cannot be a reference token (not an RFC 6750 b64token, or too short to carry the entropy RFC 6749
// requires) is refused before any call; refusals are remembered apart from active results, so a
// flood of refused tokens cannot push a real token's result out; and a token the IdP has called
// active before (until its exp) is asked about again in slots that tokens never seen active cannot
// take, so a flood of them cannot keep a signed-in user's token from being checked again.
import { createHash } from 'node:crypto';
import {
  INTROSPECTION_BREAKER_OPEN_SECONDS, INTROSPECTION_CACHE_SIZE, INTROSPECTION_MAX_IN_FLIGHT, INTROSPECTION_MAX_IN_FLIGHT_UNKNOWN,
  INTROSPECTION_NEGATIVE_CACHE_SIZE, INTROSPECTION_NEGATIVE_TTL_SECONDS, REFERENCE_TOKEN_MIN_LENGTH,
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
  /** Tokens known active kept (INTROSPECTION_CACHE_SIZE unless given: tests). */
  activeCacheSize?: number;
  /** Refusals kept (INTROSPECTION_NEGATIVE_CACHE_SIZE unless given: tests). */
  refusedCacheSize?: number;
  now?: () => number;
  /**
   * Told when the breaker opens (with the failure: the endpoint and what went wrong, never the
   * token) and when it closes again, so an outage or a refused secret shows in the log.
   */
  log?: (level: 'info' | 'warn', msg: string) => void;
}

/** RFC 6750 b64token: what an opaque token may look like at all. */
const OPAQUE_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** A token the IdP called active: reused until `freshUntilMs`, known active until its exp. */
interface ActiveEntry {
  principal: Principal;
  freshUntilMs: number;
}

/** A token refused: a replay within `untilMs` is refused for the same reason without a call. */
interface RefusedEntry {
  refusal: RefusalReason;
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
  /** Tokens called active, by digest, until their exp (insertion order: oldest first). */
  private readonly active = new Map<string, ActiveEntry>();
  /** Tokens refused, by digest: apart, so that refusals never push out an active result. */
  private readonly refused = new Map<string, RefusedEntry>();
  private readonly pending = new Map<string, Promise<Principal>>();
  /** Calls in flight for tokens not known active (at most INTROSPECTION_MAX_IN_FLIGHT_UNKNOWN). */
  private unknownInFlight = 0;
  private readonly now: () => number;
  /** Until when failed calls keep the breaker open (ms); -Infinity when closed. */
  private openUntil = -Infinity;
  /** A call probing whether the IdP answers again is in flight. */
  private probing = false;
  private readonly activeMax: number;
  private readonly refusedMax: number;
  /** Calls made to the introspection endpoint (observability and tests). */
  calls = 0;

  constructor(settings: IntrospectionSettings, authority: Authority) {
    this.s = settings;
    this.authority = authority;
    this.now = settings.now ?? Date.now;
    this.activeMax = settings.activeCacheSize ?? INTROSPECTION_CACHE_SIZE;
    this.refusedMax = settings.refusedCacheSize ?? INTROSPECTION_NEGATIVE_CACHE_SIZE;
  }

  introspect(token: string): Principal | Promise<Principal> {
    if (token.length < REFERENCE_TOKEN_MIN_LENGTH || !OPAQUE_TOKEN.test(token)) throw invalidToken('token_malformed');
    const nowMs = this.now();
    const key = createHash('sha256').update(token).digest('base64url');
    let known = this.active.get(key);
    if (known !== undefined) {
      if (nowMs >= known.principal.expiresAt * 1000) {
        this.active.delete(key);
        known = undefined;
      } else if (nowMs < known.freshUntilMs) {
        return known.principal;
      }
    }
    const refused = this.refused.get(key);
    if (refused !== undefined) {
      if (nowMs < refused.untilMs) throw invalidToken(refused.refusal);
      this.refused.delete(key);
    }
    const shared = this.pending.get(key);
    if (shared) return shared;
    const endpoint = this.authority.metadata?.introspection_endpoint;
    if (endpoint === undefined) throw this.authority.metadata ? invalidToken('introspection_unsupported') : authUnavailable('keys_unavailable');
    const probe = this.openUntil > -Infinity;
    if (probe) {
      // The breaker is open: 503 until it may probe, and while the one probe is out.
      if (nowMs < this.openUntil) throw authUnavailable('introspection_unavailable', Math.ceil((this.openUntil - nowMs) / 1000));
      if (this.probing) throw authUnavailable('introspection_unavailable', INTROSPECTION_BREAKER_OPEN_SECONDS);
    }
    // A token known active may take any free slot; one never seen active only those below the
    // reserve, so that made-up tokens cannot hold every slot.
    const unknown = known === undefined;
    if (this.pending.size >= INTROSPECTION_MAX_IN_FLIGHT || (unknown && this.unknownInFlight >= INTROSPECTION_MAX_IN_FLIGHT_UNKNOWN)) {
      throw authUnavailable('introspection_overloaded');
    }
    if (probe) this.probing = true;
    if (unknown) this.unknownInFlight++;
    const call = this.call(endpoint, token, key).finally(() => {
      this.pending.delete(key);
      if (unknown) this.unknownInFlight--;
    });
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
      this.active.delete(key);
      putBounded(this.refused, key, { refusal: err instanceof BearerError ? err.reason : 'validation_error', untilMs: this.now() + INTROSPECTION_NEGATIVE_TTL_SECONDS * 1000 }, this.refusedMax);
      throw err;
    }
    // Kept until its exp even when answers are not reused (AUTH_INTROSPECTION_CACHE_TTL=0): known
    // active, its next check takes a reserved slot.
    putBounded(this.active, key, { principal, freshUntilMs: this.now() + this.s.cacheTtlSeconds * 1000 }, this.activeMax);
    return principal;
  }

  /** Cached results, active and refused (observability and tests). */
  get cacheSize(): number {
    return this.active.size + this.refused.size;
  }

  /** Introspection calls in flight (observability and tests). */
  get inFlight(): number {
    return this.pending.size;
  }

  private check(r: Record<string, unknown>): Principal {
    if (r.active !== true) throw invalidToken('token_inactive');
    // RFC 7662 token_type is the RFC 6749 type of an access token; refresh tokens have none (or another).
    if (typeof r.token_type !== 'string' || r.token_type.toLowerCase() !== 'bearer') throw invalidToken('not_access_token');
    return principalFromClaims({ ...r }, this.s, 'introspection', this.now());
  }
}

/** Sets `key` as the newest entry of `map`, dropping the oldest when `max` entries are held. */
function putBounded<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}
