// Verifies a JWT access token (RFC 9068 / Auth0) strictly and cheaply. The JOSE
// header is parsed and checked here by hand, signatures are checked with node:crypto against keys
// from the issuer's JWKS only (cheaper than WebCrypto: bench/README.md), the claims by the one
// validator shared with introspection (access-token-claims.ts), and a token verified once is
// served from the VerifiedTokenCache until its exp. Every failure is the same invalid_token to the
// caller; the reason code is kept for the log.
import { verify as cryptoVerify } from 'node:crypto';
import { normalizeTyp } from './config.ts';
import { MAX_KID_LENGTH, type Algorithm } from './defaults.ts';
import type { Authority } from './authority.ts';
import type { SigningKey } from './jwks.ts';
import { principalFromClaims, profileOfTyp, type ClaimRules, type TokenProfile } from './access-token-claims.ts';
import { authUnavailable, invalidToken } from './problem.ts';
import type { Principal } from './principal.ts';
import type { VerifiedTokenCache } from './verified-token-cache.ts';

export interface JwtSettings extends ClaimRules {
  algorithms: readonly Algorithm[];
  /** Accepted `typ` values, already normalised (lower case, no `application/`). */
  tokenTypes: readonly string[];
  now?: () => number;
}

/** Compact JWS: exactly three non-empty base64url segments (a JWE has five, a bare JSON none). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/**
 * Header members we refuse outright: key references and embedded keys (keys come from the JWKS
 * only), critical extensions (we implement none), encryption and nested-token markers.
 */
const FORBIDDEN_HEADER_MEMBERS = ['jku', 'x5u', 'x5c', 'jwk', 'crit', 'enc', 'zip', 'cty', 'b64', 'epk', 'p2s'];

function decodeJsonObject(segment: string): Record<string, unknown> {
  // A base64url length of 1 mod 4 is not a valid encoding (Node would silently drop the tail).
  if (segment.length % 4 === 1) throw invalidToken('token_malformed');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken('token_malformed');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidToken('token_malformed');
  return value as Record<string, unknown>;
}

interface ParsedHeader {
  /** The encoded header, as it came. */
  text: string;
  alg: Algorithm;
  kid: string | undefined;
  profile: TokenProfile;
}

/**
 * Accepted headers by their encoded text: an issuer uses a handful of distinct headers (one per
 * key), so a cache miss need not decode and re-check the same header every time.
 */
const HEADER_CACHE_SIZE = 64;

export class AccessTokenVerifier {
  private readonly s: JwtSettings;
  private readonly authority: Authority;
  private readonly cache: VerifiedTokenCache;
  private readonly algorithms: ReadonlySet<string>;
  private readonly tokenTypes: ReadonlySet<string>;
  private readonly toleranceMs: number;
  private readonly now: () => number;
  private readonly headers = new Map<string, ParsedHeader>();
  /** The header accepted last: an issuer signs with one key at a time, so usually the next one's. */
  private lastHeader: ParsedHeader | undefined;

  constructor(settings: JwtSettings, authority: Authority, cache: VerifiedTokenCache) {
    this.s = settings;
    this.authority = authority;
    this.cache = cache;
    this.algorithms = new Set(settings.algorithms);
    this.tokenTypes = new Set(settings.tokenTypes);
    this.toleranceMs = settings.clockToleranceSeconds * 1000;
    this.now = settings.now ?? Date.now;
  }

  /**
   * The principal of a valid token: synchronously when cached or when its key is held, as a
   * promise when an unknown kid makes us consult the JWKS again. Throws BearerError.
   */
  verify(token: string): Principal | Promise<Principal> {
    const nowMs = this.now();
    const cached = this.cache.get(token, nowMs, this.toleranceMs);
    if (cached !== undefined) return cached;

    if (!COMPACT_JWS.test(token)) throw invalidToken('token_malformed');
    const firstDot = token.indexOf('.');
    const lastDot = token.lastIndexOf('.');
    const header = this.parseHeader(token, firstDot);

    const jwks = this.authority.jwks;
    if (jwks === undefined || !jwks.loaded) throw authUnavailable('keys_unavailable');
    const key = jwks.lookup(header.kid, header.alg);
    if (key !== undefined) return this.verifyWithKey(token, firstDot, lastDot, header, key, nowMs);
    return jwks.refreshForUnknownKey(header.kid).then(() => {
      const refetched = jwks.lookup(header.kid, header.alg);
      if (refetched === undefined) throw invalidToken('key_unknown');
      return this.verifyWithKey(token, firstDot, lastDot, header, refetched, this.now());
    });
  }

  /** The checked header of `token`, whose first dot is at `firstDot`. */
  private parseHeader(token: string, firstDot: number): ParsedHeader {
    const last = this.lastHeader;
    // Compared in place: no slice of the token to hash and look up.
    if (last !== undefined && last.text.length === firstDot && token.startsWith(last.text)) return last;
    const segment = token.slice(0, firstDot);
    let header = this.headers.get(segment);
    if (header === undefined) {
      header = this.checkHeader(segment, decodeJsonObject(segment));
      if (this.headers.size >= HEADER_CACHE_SIZE) this.headers.clear();
      this.headers.set(segment, header);
    }
    this.lastHeader = header;
    return header;
  }

  private checkHeader(text: string, h: Record<string, unknown>): ParsedHeader {
    const alg = h.alg;
    if (typeof alg !== 'string' || !this.algorithms.has(alg)) throw invalidToken('alg_refused');
    const typ = h.typ;
    if (typeof typ !== 'string' || !this.tokenTypes.has(normalizeTyp(typ))) throw invalidToken('typ_refused');
    for (const member of FORBIDDEN_HEADER_MEMBERS) {
      if (Object.hasOwn(h, member)) throw invalidToken('header_member_refused');
    }
    const kid = h.kid;
    if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) throw invalidToken('kid_malformed');
    return { text, alg: alg as Algorithm, kid: kid as string | undefined, profile: profileOfTyp(normalizeTyp(typ)) };
  }

  private verifyWithKey(token: string, firstDot: number, lastDot: number, header: ParsedHeader, key: SigningKey, nowMs: number): Principal {
    const params = key.params.get(header.alg)!;
    const signature = Buffer.from(token.slice(lastDot + 1), 'base64url');
    if (signature.length !== params.signatureLength) throw invalidToken('signature_invalid');
    const signingInput = Buffer.from(token.slice(0, lastDot), 'latin1');
    let ok: boolean;
    try {
      ok = cryptoVerify(params.hash, signingInput, params.key, signature);
    } catch {
      ok = false;
    }
    if (!ok) throw invalidToken('signature_invalid');

    const claims = decodeJsonObject(token.slice(firstDot + 1, lastDot));
    const principal = principalFromClaims(claims, this.s, header.profile, nowMs);
    const nbf = claims.nbf as number | undefined;
    this.cache.set(token, principal, key, nbf === undefined ? 0 : nbf * 1000);
    return principal;
  }
}
