// A relying party for tests: openid-client against a running IdP, plus a browserless user agent
// (cookie jar, manual redirects) that signs in through the real login form.
import * as oidc from 'openid-client';

export const SPA_REDIRECT_URI = 'http://localhost:4200';
export const API_AUDIENCE = 'https://auth0-api-spa';
export const API_SCOPE = 'auth0-user-api-spa';
export const SPA_SCOPE = `openid profile offline_access ${API_SCOPE}`;
export const DEV_API_SECRET = 'dev-api-secret-change-me';
export const DEV_BFF_SECRET = 'dev-bff-secret-change-me';

/**
 * openid-client sends the callback URL's href as redirect_uri, which for an origin-only redirect
 * URI gains a trailing slash ("http://localhost:4200/"). The SPA's library sends the registered
 * value exactly; so does this fetch.
 */
const exactRedirectUriFetch: oidc.CustomFetch = (url, options) => {
  const body = options.body;
  if (body instanceof URLSearchParams && body.get('redirect_uri') === `${SPA_REDIRECT_URI}/`) {
    body.set('redirect_uri', SPA_REDIRECT_URI);
  }
  return fetch(url, options as RequestInit);
};

export async function rpConfig(issuer: string, clientId: string, secret?: string): Promise<oidc.Configuration> {
  const config = await oidc.discovery(new URL(issuer), clientId, secret ? { client_secret: secret } : {},
    secret ? oidc.ClientSecretBasic(secret) : oidc.None(), { execute: [oidc.allowInsecureRequests] });
  config[oidc.customFetch] = exactRedirectUriFetch;
  return config;
}

/** Minimal cookie jar: name → value, sent to the IdP on every request (its cookies are path-scoped but uniquely named). */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

export interface UserAgent {
  jar: CookieJar;
  /** Fetch with cookies, no redirect following. */
  request(url: string | URL, init?: RequestInit): Promise<Response>;
}

export function userAgent(): UserAgent {
  const jar = new CookieJar();
  return {
    jar,
    async request(url, init = {}) {
      const headers = new Headers(init.headers);
      if (jar.cookies.size) headers.set('cookie', jar.header());
      const res = await fetch(url, { ...init, headers, redirect: 'manual' });
      jar.store(res);
      return res;
    },
  };
}

/** Follows redirects within the IdP until one leaves it (returned) or a page is shown (returned). */
export async function followIdpRedirects(ua: UserAgent, issuer: string, start: string | URL, init?: RequestInit): Promise<Response> {
  let res = await ua.request(start, init);
  for (let hops = 0; hops < 10; hops++) {
    const location = res.headers.get('location');
    if (!location || res.status < 300 || res.status >= 400) return res;
    const next = new URL(location, issuer);
    if (next.origin !== new URL(issuer).origin) return res;
    res = await ua.request(next);
  }
  throw new Error('too many redirects');
}

export async function submitLogin(ua: UserAgent, issuer: string, loginPage: Response, username: string, password: string): Promise<Response> {
  const html = await loginPage.text();
  const action = /<form method="post" action="([^"]+\/login)"/.exec(html)?.[1];
  if (!action) throw new Error(`no login form in page (status ${loginPage.status})`);
  return followIdpRedirects(ua, issuer, new URL(action, issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
}

export interface AuthorizationRequest {
  url: URL;
  verifier: string;
  state: string;
}

export async function authorizationRequest(config: oidc.Configuration, params: Record<string, string> = {}): Promise<AuthorizationRequest> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: SPA_REDIRECT_URI,
    scope: SPA_SCOPE,
    audience: API_AUDIENCE,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...params,
  });
  return { url, verifier, state };
}

/** Runs the authorization request through the login form; returns the callback URL carrying the code. */
export async function authorizeWithLogin(ua: UserAgent, config: oidc.Configuration, req: AuthorizationRequest, username: string, password: string): Promise<URL> {
  const issuer = config.serverMetadata().issuer;
  const page = await followIdpRedirects(ua, issuer, req.url);
  const after = page.status === 200 ? await submitLogin(ua, issuer, page, username, password) : page;
  const location = after.headers.get('location');
  const redirectUri = req.url.searchParams.get('redirect_uri') ?? SPA_REDIRECT_URI;
  if (!location || !location.startsWith(redirectUri)) throw new Error(`expected a redirect to the client, got ${after.status} ${location ?? ''}`);
  return new URL(location);
}

/** Full login: returns the token response. */
export async function login(config: oidc.Configuration, username: string, password: string, ua = userAgent(), params: Record<string, string> = {}) {
  const req = await authorizationRequest(config, params);
  const callback = await authorizeWithLogin(ua, config, req, username, password);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state });
  return { tokens, ua, callback, req };
}

/**
 * The token-mode SPA's logout: end-session with its id_token_hint, then the form the page submits
 * by itself (logout=yes: the whole IdP session ends). Answers the IdP's reply to that form.
 */
export async function endSessionAsSpa(ua: UserAgent, config: oidc.Configuration, idToken: string): Promise<Response> {
  const issuer = config.serverMetadata().issuer;
  const url = oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: SPA_REDIRECT_URI });
  const html = await (await followIdpRedirects(ua, issuer, url)).text();
  const action = /<form data-auto-submit id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error('the logout page does not submit itself');
  const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  return ua.request(new URL(action, issuer), {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
  });
}

/** Raw token-endpoint POST, for hostile requests openid-client would refuse to send. */
export async function tokenRequest(issuer: string, form: Record<string, string>, basicAuth?: [string, string]): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basicAuth) headers['authorization'] = `Basic ${Buffer.from(`${encodeURIComponent(basicAuth[0])}:${encodeURIComponent(basicAuth[1])}`).toString('base64')}`;
  const res = await fetch(new URL('/oauth/token', issuer), { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) };
}
