// Endpoint paths. Auth0's, so that clients with Auth0's paths built in (its SDKs call them without
// reading discovery) work unchanged; discovery lists them for every other client. Introspection
// has no Auth0 counterpart: it sits beside the token endpoint.
export const ROUTES = {
  authorization: '/authorize',
  token: '/oauth/token',
  revocation: '/oauth/revoke',
  introspection: '/oauth/introspect',
  userinfo: '/userinfo',
  jwks: '/.well-known/jwks.json',
  end_session: '/oidc/logout',
} as const;

/** Auth0's own logout endpoint (`?client_id&returnTo`), served beside the hint-checked end session. */
export const AUTH0_LOGOUT_PATH = '/v2/logout';

/** Where oidc-provider confirms an end-session request (the logout form posts here). */
export const END_SESSION_CONFIRM_PATH = `${ROUTES.end_session}/confirm`;
