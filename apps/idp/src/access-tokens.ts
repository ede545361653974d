// JWT access tokens as Auth0 issues them, and what oidc-provider cannot do with its own JWTs.
//
// Profiles (docs/decisions/0008): `auth0` (typ JWT, azp, no jti/client_id) and `rfc9068` (typ
// at+jwt, client_id, jti). Both carry aud = [API, <userinfo endpoint>] when openid was granted and
// a scope listing the granted OpenID scopes with the API's.
//
// oidc-provider never stores JWT access tokens, so it cannot find them again: userinfo refuses them,
// introspection and revocation answer unsupported_token_type. Here each JWT access token also gets
// a record under the SHA-256 of the exact JWT (a grant member: it dies with the grant; Auth0's
// profile has no jti to key it by). A JWT presented back is verified (signature, issuer, expiry)
// and then resolved to its record. A record is never reachable as an opaque token.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import Provider, { type JWK, type KoaContextWithOIDC } from 'oidc-provider';
import { CLIENT_CREDENTIALS_GTY, clientSubject } from './client-grants.ts';
import type { Clock } from './clock.ts';
import { SIGNING_ALGS, type AccessTokenProfile } from './defaults.ts';
import { ROUTES } from './routes.ts';

/** Marks stored records of JWT access tokens: oidc-provider's opaque lookup refuses any other format. */
const RECORD_FORMAT = 'jwt';
/** oidc-provider's own limit on request bodies. */
const TOKEN_REQUEST_MAX_BYTES = 56 * 1024;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

type AccessTokenLike = { jti: string; scope?: string; grantId?: string; [key: string]: unknown };

const recordKey = (jwt: string) => createHash('sha256').update(jwt).digest('base64url');
type StructuredToken = { header?: Record<string, unknown>; payload: Record<string, unknown> };

export function looksLikeJwt(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    return Boolean(decodeProtectedHeader(value));
  } catch {
    return false;
  }
}

function unique(scopes: Iterable<string>): string {
  return [...new Set([...scopes].filter(Boolean))].join(' ');
}

/**
 * Every scope granted by this token request, as Auth0 lists it: the OpenID scopes the grant holds
 * among those asked for (the code's, the refresh token's, or the refresh request's `scope`), then
 * the resource's scopes (`resourceScope`).
 */
export function grantedScope(ctx: KoaContextWithOIDC, resourceScope: string | undefined): string {
  const { Grant: grant, AuthorizationCode: code, RefreshToken: refreshToken } = ctx.oidc.entities;
  const asked = ctx.oidc.params?.['scope'] ? ctx.oidc.requestParamScopes : (code ?? refreshToken)?.scopes;
  const oidcScope = grant && asked ? grant.getOIDCScopeFiltered(asked) : '';
  return unique([...oidcScope.split(' '), ...(resourceScope ?? '').split(' ')]);
}

export interface JwtAccessTokenDeps {
  issuer: string;
  keys: JWK[];
  clock: Clock;
  /** The profile of the resource a token is for. */
  profileOf(audience: string): AccessTokenProfile;
}

export function installJwtAccessTokens(provider: Provider, deps: JwtAccessTokenDeps) {
  const userinfoAudience = new URL(ROUTES.userinfo, deps.issuer).href;
  const publicKeys = deps.keys.map((k) => Object.fromEntries(Object.entries(k).filter(([m]) => !PRIVATE_JWK_MEMBERS.includes(m))));
  const keySet = createLocalJWKSet({ keys: publicKeys } as JSONWebKeySet);
  const AccessToken = provider.AccessToken as unknown as {
    find(value: string, opts?: unknown): Promise<unknown>;
    instantiate(payload: Record<string, unknown>): unknown;
    IN_PAYLOAD: string[];
    adapter: { find(id: string): Promise<Record<string, unknown> | undefined>; upsert(id: string, payload: Record<string, unknown>, ttl: number): Promise<void> };
    prototype: { save(this: AccessTokenLike): Promise<string> };
  };
  const findOpaque = AccessToken.find.bind(AccessToken);
  /** JWTs this request proved (introspection and revocation rewrite them to their record key). */
  const provedKeys = new WeakMap<IncomingMessage, string>();

  /** The record key of a JWT signed by this IdP, unexpired; undefined for anything else. */
  async function verifiedKey(jwt: string): Promise<string | undefined> {
    try {
      await jwtVerify(jwt, keySet, {
        issuer: deps.issuer, algorithms: [...SIGNING_ALGS], requiredClaims: ['exp'], currentDate: new Date(deps.clock.now()),
      });
      return recordKey(jwt);
    } catch {
      return undefined;
    }
  }

  async function findRecord(key: string): Promise<unknown> {
    const stored = await AccessToken.adapter.find(key);
    if (!stored || stored['format'] !== RECORD_FORMAT) return undefined;
    if (typeof stored['exp'] !== 'number' || stored['exp'] * 1000 <= deps.clock.now()) return undefined;
    const { format: _format, ...payload } = stored;
    const token = AccessToken.instantiate(payload) as AccessTokenLike;
    // Auth0 accepts its API token at userinfo when the login was an OpenID request (the token's aud
    // names the userinfo endpoint); oidc-provider refuses any token with an audience there.
    const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
    if (ctx?.oidc?.route === 'userinfo' && token.scope?.split(' ').includes('openid')) delete token['aud'];
    return token;
  }

  AccessToken.find = async (value: string, opts?: unknown) => {
    if (looksLikeJwt(value)) {
      const key = await verifiedKey(value);
      return key ? findRecord(key) : undefined;
    }
    const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
    if (ctx && provedKeys.get(ctx.req) === value) return findRecord(value);
    return findOpaque(value, opts);
  };

  const saveToken = AccessToken.prototype.save;
  AccessToken.prototype.save = async function save(this: AccessTokenLike): Promise<string> {
    const value = await saveToken.call(this);
    if (!looksLikeJwt(value)) return value;
    const claims = decodeJwt(value);
    const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
    const record: Record<string, unknown> = { format: RECORD_FORMAT, iat: claims.iat, exp: claims.exp };
    for (const key of AccessToken.IN_PAYLOAD) if (this[key] !== undefined) record[key] = this[key];
    // The record answers for the token by its key (revocation destroys it by `jti`).
    record['jti'] = recordKey(value);
    record['aud'] = claims.aud;
    record['scope'] = ctx ? grantedScope(ctx, this.scope) : this.scope;
    const ttl = Number(claims.exp) - Math.floor(deps.clock.now() / 1000);
    await AccessToken.adapter.upsert(recordKey(value), record, Math.max(1, ttl));
    return value;
  };

  /** formats.customizers.jwt: shapes the token to its resource's profile. */
  function customize(ctx: KoaContextWithOIDC, token: AccessTokenLike, jwt: StructuredToken): void {
    const { payload } = jwt;
    const audience = String([payload['aud']].flat()[0]);
    const scope = grantedScope(ctx, token.scope);
    const openid = scope.split(' ').includes('openid');
    payload['aud'] = openid ? [audience, userinfoAudience] : [audience];
    payload['scope'] = scope;
    if (token.kind === 'ClientCredentials') {
      // Auth0's machine-to-machine token: no user, so sub names the client (`<client_id>@clients`),
      // gty says how it was got, and aud is the API alone, a string (client-grants.ts).
      payload['sub'] = clientSubject(String(payload['client_id']));
      payload['gty'] = CLIENT_CREDENTIALS_GTY;
      payload['aud'] = audience;
    }
    if (deps.profileOf(audience) === 'auth0') {
      jwt.header = { ...jwt.header, typ: 'JWT' };
      payload['azp'] = payload['client_id'];
      delete payload['client_id'];
      delete payload['jti'];
    }
  }

  /**
   * oidc-provider's introspection and revocation refuse every JWT before looking it up. A JWT in
   * their `token` parameter is verified here and replaced by its record key, which this request alone may
   * resolve; an unverifiable one by a value that matches nothing (inactive, nothing revoked).
   * Returns the request to hand on (one replaying the rewritten body), or undefined when the body
   * is larger than `maxBytes`.
   */
  async function rewriteTokenParameter(req: IncomingMessage, maxBytes: number): Promise<IncomingMessage | undefined> {
    const type = String(req.headers['content-type'] ?? '');
    if (req.method !== 'POST' || !type.startsWith('application/x-www-form-urlencoded')) return req;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) return undefined;
      chunks.push(chunk as Buffer);
    }
    let body = Buffer.concat(chunks);
    const form = new URLSearchParams(body.toString('utf8'));
    const tokens = form.getAll('token');
    let proved: string | undefined;
    if (tokens.length === 1 && looksLikeJwt(tokens[0])) {
      proved = await verifiedKey(tokens[0]!);
      form.set('token', proved ?? 'unverifiable-jwt');
      body = Buffer.from(form.toString());
    }
    const replay = Object.assign(Readable.from([body]), {
      headers: { ...req.headers, 'content-length': String(body.length) },
      rawHeaders: req.rawHeaders, method: req.method, url: req.url, httpVersion: req.httpVersion,
      httpVersionMajor: req.httpVersionMajor, httpVersionMinor: req.httpVersionMinor, socket: req.socket, connection: req.socket,
    }) as unknown as IncomingMessage;
    if (proved) provedKeys.set(replay, proved);
    return replay;
  }

  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && (ctx.path === ROUTES.introspection || ctx.path === ROUTES.revocation)) {
      const replay = await rewriteTokenParameter(ctx.req, TOKEN_REQUEST_MAX_BYTES);
      if (!replay) {
        ctx.status = 413;
        ctx.body = { error: 'invalid_request', error_description: 'request body too large' };
        return;
      }
      ctx.req = ctx.request.req = replay;
    }
    await next();
  });

  return { customize };
}
