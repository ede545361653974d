// Picks how an access token is validated according to AUTH_TOKEN_FORMAT: a JWT is verified
// locally, a reference token is introspected; `auto` tells them apart by shape (a JWS or JWE
// contains dots, the IdP's opaque tokens never do).
import type { Introspector } from './introspection.ts';
import type { Principal } from './principal.ts';
import type { AccessTokenVerifier } from './verify-access-token.ts';

export type TokenFormat = 'jwt' | 'reference' | 'auto';

export class TokenValidator {
  private readonly format: TokenFormat;
  private readonly jwt: AccessTokenVerifier;
  private readonly introspector: Introspector;

  constructor(format: TokenFormat, jwt: AccessTokenVerifier, introspector: Introspector) {
    this.format = format;
    this.jwt = jwt;
    this.introspector = introspector;
  }

  validate(token: string): Principal | Promise<Principal> {
    if (this.format === 'jwt') return this.jwt.verify(token);
    if (this.format === 'reference') return this.introspector.introspect(token);
    if (token.includes('.')) return this.jwt.verify(token);
    // Without an introspection endpoint (Auth0) this is an invalid token, not a reason to wait.
    return this.introspector.introspect(token);
  }
}
