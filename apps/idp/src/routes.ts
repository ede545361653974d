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

/** Where oidc-provider shows the page after a confirmed end session without a redirect. */
export const END_SESSION_SUCCESS_PATH = `${ROUTES.end_session}/success`;

/** Where an authorization request resumes after the login page (`:uid` the interaction). */
export const RESUME_PATH = `${ROUTES.authorization}/:uid`;

/** Discovery, at both names oidc-provider serves it under. */
export const DISCOVERY_PATHS = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'] as const;

/**
 * Every path oidc-provider's router serves here, in the one spelling our own middleware compares
 * with (`:uid` stands for a segment). The router also serves each in any ASCII case and with one
 * trailing slash; request-path.ts rewrites those to these.
 */
export const PROVIDER_PATHS: readonly string[] = [...Object.values(ROUTES), END_SESSION_CONFIRM_PATH, END_SESSION_SUCCESS_PATH, RESUME_PATH, ...DISCOVERY_PATHS];
