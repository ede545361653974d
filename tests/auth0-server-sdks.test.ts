// Auth0's server-side SDKs against the embedded IdP, unchanged: express-openid-connect (the Express
// web-app SDK) and the `auth0` package's AuthenticationClient, and openid-client's client credentials grant
// (machine-to-machine). The IdP mirrors a tenant (issuer with
// the trailing slash, Auth0's token profile); the web client is registered in a test clients file.
import { after, before, describe, test } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { AuthenticationClient, UserInfoClient } from 'auth0';
import express from 'express';
import { auth, type ConfigParams } from 'express-openid-connect';
import * as oidc from 'openid-client';
import { startIdpInProcess, type InProcessIdp } from './support/idp-in-process.ts';
import { API_AUDIENCE, API_SCOPE, authorizationRequest, authorizeWithLogin, decodeJwt, followIdpRedirects, submitLogin, userAgent, type UserAgent } from './support/oidc-rp.ts';
import { buildApi, type Api } from '../apps/api/src/app.ts';
import { readApiConfig } from '../apps/api/src/config.ts';

const WEB_CLIENT = 'express-web';
const WEB_SECRET = 'express-web-test-secret-0123456789';
const SCOPE = `openid profile email offline_access ${API_SCOPE}`;
/** The demo machine-to-machine client's development secret, and the scope its client grant holds. */
const SERVICE_SECRET = 'dev-service-secret-change-me';
const SERVICE_SCOPE = 'auth0-service-api';

let dir: string;
let idp: InProcessIdp;
let api: Api;
let web: Server;
let baseURL: string;

/** The registered clients plus a confidential web client at the test's own origin. */
function clientsFile(origin: string): string {
  const doc = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'apps', 'idp', 'config', 'clients.json'), 'utf8'));
  doc.clients.push({
    client_id: WEB_CLIENT, client_name: 'Express web app (express-openid-connect)', first_party: true,
    token_endpoint_auth_method: 'client_secret_post', client_secret_env: 'EXPRESS_WEB_SECRET', dev_client_secret: WEB_SECRET,
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    redirect_uris: [`${origin}/callback`], post_logout_redirect_uris: [origin],
  });
  const file = join(dir, 'clients.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

/** Express + express-openid-connect, behind a handler the test swaps in. */
let handler: express.Express | undefined;

function webApp(params: Partial<ConfigParams>): express.Express {
  const app = express();
  app.use(auth({
    issuerBaseURL: idp.issuer, baseURL, clientID: WEB_CLIENT, clientSecret: WEB_SECRET,
    secret: 'a-long-session-secret-for-the-test-app', authRequired: false,
    authorizationParams: { response_type: 'code', audience: API_AUDIENCE, scope: SCOPE },
    ...params,
  }));
  app.get('/me', async (req, res) => {
    const at = req.oidc.accessToken;
    res.json({ user: req.oidc.user ?? null, accessToken: at?.access_token ?? null, refreshToken: req.oidc.refreshToken ?? null });
  });
  app.get('/refresh', async (req, res) => {
    const at = await req.oidc.accessToken!.refresh();
    res.json({ accessToken: at.access_token });
  });
  // What the SDK reports (an error from the IdP keeps its OAuth error code).
  app.use((err: Error & { status?: number; error?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err.status ?? 500).json({ error: err.error ?? null, message: err.message });
  });
  return app;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'auth0-sdks-'));
  web = createServer((req, res) => (handler ? handler(req, res) : res.writeHead(503).end()));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  baseURL = `http://localhost:${(web.address() as AddressInfo).port}`;
  idp = await startIdpInProcess((port) => ({
    IDP_CLIENTS_FILE: clientsFile(baseURL), IDP_ISSUER: `http://localhost:${port}/`, IDP_ACCESS_TOKEN_PROFILE: 'auth0',
  }));
  api = buildApi(readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir, AUTH_TOKEN_TYPES: 'at+jwt,JWT', AUTH_ALLOWED_CLIENTS: WEB_CLIENT }), { logger: false });
  await api.authority.start();
});
after(async () => {
  await api?.app.close();
  web?.closeAllConnections();
  await new Promise((resolve) => web?.close(resolve));
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One browser for both sites: the cookie jar holds the IdP's and the web app's cookies (distinct names). */
async function browse(ua: UserAgent, url: string): Promise<Response> {
  let res = await ua.request(url);
  for (let hops = 0; hops < 10 && res.status >= 300 && res.status < 400; hops++) {
    const next = new URL(res.headers.get('location')!, url);
    if (new URL(url).origin !== next.origin && next.origin === new URL(idp.issuer).origin) {
      res = await followIdpRedirects(ua, idp.issuer, next);
      if (res.status === 200) return res;
    } else res = await ua.request(next);
    url = next.href;
  }
  return res;
}

/** What the web app shows about its session. */
async function me(ua: UserAgent): Promise<{ user: Record<string, unknown> | null; accessToken: string | null; refreshToken: string | null }> {
  return (await ua.request(`${baseURL}/me`)).json() as never;
}

async function webLogin(ua: UserAgent): Promise<void> {
  const page = await browse(ua, `${baseURL}/login`);
  assert.equal(page.status, 200, 'the IdP shows its login form');
  const back = await submitLogin(ua, idp.issuer, page, 'alice', 'demo-alice');
  const callback = new URL(back.headers.get('location')!);
  assert.equal(`${callback.origin}${callback.pathname}`, `${baseURL}/callback`);
  const done = await ua.request(callback);
  assert.equal(done.status, 302, 'the SDK accepts the callback');
}

const apiCall = (token: string) => api.app.inject({ url: '/api/UserOne', headers: { authorization: `Bearer ${token}` } });

describe('express-openid-connect (code flow, confidential client)', () => {
  test('login through the login form: req.oidc.user, an access token the API accepts, refresh with rotation', async () => {
    handler = webApp({});
    const ua = userAgent();
    await webLogin(ua);
    const session = await me(ua);
    assert.equal(session.user?.['sub'], 'auth0|alice');
    assert.equal(session.user?.['email'], 'alice@example.com');
    assert.equal(decodeJwt(session.accessToken!).payload['azp'], WEB_CLIENT);
    const res = await apiCall(session.accessToken!);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), ['user one data']);
    const refreshed = await ua.request(`${baseURL}/refresh`);
    assert.equal(refreshed.status, 200);
    assert.equal((await apiCall(((await refreshed.json()) as { accessToken: string }).accessToken)).statusCode, 200);
    const after = await me(ua);
    assert.ok(after.refreshToken && after.refreshToken !== session.refreshToken, 'the refresh token was rotated');
    assert.ok(idp.logs.some((l) => l.includes('"token_refreshed"') && l.includes(WEB_CLIENT)));
  });

  test("logout with idpLogout goes to the IdP's end_session with the ID token; the IdP session ends and returns to baseURL", async () => {
    handler = webApp({ idpLogout: true });
    const ua = userAgent();
    await webLogin(ua);
    const logout = await ua.request(`${baseURL}/logout`);
    const endSession = new URL(logout.headers.get('location')!);
    assert.equal(`${endSession.origin}${endSession.pathname}`, `${new URL(idp.issuer).origin}/oidc/logout`);
    assert.ok(endSession.searchParams.get('id_token_hint'));
    assert.equal(endSession.searchParams.get('post_logout_redirect_uri'), baseURL);
    // The IdP's logout page submits itself (the hint names this session): what a browser does.
    const html = await (await followIdpRedirects(ua, idp.issuer, endSession)).text();
    const action = /<form data-auto-submit id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
    assert.ok(action, 'the logout page submits itself');
    const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const back = await ua.request(new URL(action, idp.issuer), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
    });
    assert.equal(back.status, 303);
    assert.equal(new URL(back.headers.get('location')!).href, new URL(baseURL).href);
    assert.equal((await me(ua)).user, null);
    assert.equal((await browse(ua, `${baseURL}/login`)).status, 200, 'the IdP asks for the password again');
  });

  test("logout with auth0Logout goes to Auth0's /v2/logout with client_id and returnTo", async () => {
    handler = webApp({ auth0Logout: true });
    const ua = userAgent();
    await webLogin(ua);
    const logout = await ua.request(`${baseURL}/logout`);
    const v2 = new URL(logout.headers.get('location')!);
    assert.equal(v2.pathname, '/v2/logout');
    assert.equal(v2.searchParams.get('client_id'), WEB_CLIENT);
    const back = await ua.request(v2);
    assert.equal(back.status, 302);
    assert.equal(back.headers.get('location'), baseURL);
    assert.equal((await browse(ua, `${baseURL}/login`)).status, 200, 'the IdP asks for the password again');
  });

  test("the SDK's default response type (id_token, form_post) is refused with unsupported_response_type, shown by the SDK", async () => {
    handler = webApp({ clientSecret: undefined, authorizationParams: { scope: 'openid profile' } });
    const ua = userAgent();
    const toIdp = await ua.request(`${baseURL}/login`);
    const authorize = new URL(toIdp.headers.get('location')!);
    assert.equal(authorize.searchParams.get('response_type'), 'id_token');
    assert.equal(authorize.searchParams.get('response_mode'), 'form_post');
    const answer = await ua.request(authorize);
    const html = await answer.text();
    // An unsupported response type goes back to the client as an error (form_post), before any login.
    assert.match(html, /name="error" value="unsupported_response_type"/);
    const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/?>/g)].map((m) => [m[1]!, m[2]!]));
    const shown = await ua.request(`${baseURL}/callback`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
    });
    assert.equal(shown.status, 400);
    assert.equal(((await shown.json()) as { error: string }).error, 'unsupported_response_type');
  });
});

// The `auth0` package (node-auth0 v4) builds every URL as https://${domain} and expects the issuer
// https://${domain}/: the IdP is served over TLS on loopback with a test certificate, trusted in this
// process only. Nothing in the SDK is changed or configured beyond domain, clientId, clientSecret.
describe("auth0's AuthenticationClient (node-auth0 v4)", () => {
  const CLIENT = 'node-auth0';
  const SECRET = 'node-auth0-test-secret-0123456789';
  const REDIRECT_URI = 'http://localhost:4600/callback';
  // A machine client registered for private_key_jwt (decision 0077): the SDK signs its assertion with clientAssertionSigningKey.
  const SIGNER = 'node-auth0-signer';
  const signerKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let tlsServer: TlsServer;
  let tlsIdp: InProcessIdp;
  let domain: string;

  before(async () => {
    const tlsDir = join(import.meta.dirname, 'support', 'tls');
    const cert = readFileSync(join(tlsDir, 'localhost-cert.pem'), 'utf8');
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), cert]);
    tlsServer = createTlsServer({ cert, key: readFileSync(join(tlsDir, 'localhost-key.pem')) }, (req, res) => {
      if (tlsIdp) tlsIdp.idp().handle(req, res);
      else res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    domain = `localhost:${(tlsServer.address() as AddressInfo).port}`;
    const doc = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'apps', 'idp', 'config', 'clients.json'), 'utf8'));
    doc.clients.push({
      client_id: CLIENT, first_party: true, token_endpoint_auth_method: 'client_secret_post', client_secret_env: 'NODE_AUTH0_SECRET', dev_client_secret: SECRET,
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: [REDIRECT_URI],
    });
    doc.clients.push({
      client_id: SIGNER, machine_to_machine: true, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [signerKeys.publicKey.export({ format: 'jwk' })] },
      grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
    });
    doc.client_grants.push({ client_id: SIGNER, audience: API_AUDIENCE, scope: [SERVICE_SCOPE] });
    const file = join(dir, 'tls-clients.json');
    writeFileSync(file, JSON.stringify(doc));
    tlsIdp = await startIdpInProcess({ IDP_CLIENTS_FILE: file, IDP_ISSUER: `https://${domain}/`, IDP_ACCESS_TOKEN_PROFILE: 'auth0' });
  });
  after(async () => {
    tlsServer?.closeAllConnections();
    await new Promise((resolve) => tlsServer?.close(resolve));
    await tlsIdp?.close();
  });

  /** A code for alice through the login form (PKCE, a nonce), not yet redeemed. */
  async function code() {
    const config = await oidc.discovery(new URL(tlsIdp.issuer), CLIENT, {}, oidc.None());
    const req = await authorizationRequest(config, { redirect_uri: REDIRECT_URI, nonce: 'nonce-of-this-login' });
    const callback = await authorizeWithLogin(userAgent(), config, req, 'alice', 'demo-alice');
    return { code: callback.searchParams.get('code')!, code_verifier: req.verifier };
  }

  test('authorizationCodeGrantWithPKCE (ID token checked by the SDK), refreshTokenGrant, getUserInfo, revokeRefreshToken', async () => {
    const client = new AuthenticationClient({ domain, clientId: CLIENT, clientSecret: SECRET });
    const { code: c, code_verifier } = await code();
    const tokens = (await client.oauth.authorizationCodeGrantWithPKCE({ code: c, code_verifier, redirect_uri: REDIRECT_URI }, { idTokenValidateOptions: { nonce: 'nonce-of-this-login' } })).data;
    assert.equal(decodeJwt(tokens.id_token!).payload['iss'], `https://${domain}/`);
    assert.equal(decodeJwt(tokens.access_token).payload['azp'], CLIENT);
    const refreshed = (await client.oauth.refreshTokenGrant({ refresh_token: tokens.refresh_token! })).data;
    assert.ok(refreshed.id_token && refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token);
    const info = (await new UserInfoClient({ domain }).getUserInfo(refreshed.access_token)).data;
    assert.equal(info.sub, 'auth0|alice');
    // node-auth0 posts the revocation as JSON, as Auth0 accepts.
    assert.equal((await client.oauth.revokeRefreshToken({ token: refreshed.refresh_token! })).status, 200);
    await assert.rejects(client.oauth.refreshTokenGrant({ refresh_token: refreshed.refresh_token! }), (err: Error & { error?: string }) => err.error === 'invalid_grant');
  });

  test('authorizationCodeGrant without the verifier is refused: PKCE is required of every client', async () => {
    const client = new AuthenticationClient({ domain, clientId: CLIENT, clientSecret: SECRET });
    const { code: c } = await code();
    await assert.rejects(client.oauth.authorizationCodeGrant({ code: c, redirect_uri: REDIRECT_URI }), (err: Error & { error?: string }) => err.error === 'invalid_grant');
  });

  test('clientCredentialsGrant as the machine-to-machine client: an access token only, shaped as Auth0\'s', async () => {
    const client = new AuthenticationClient({ domain, clientId: 'service', clientSecret: SERVICE_SECRET });
    const grant = await client.oauth.clientCredentialsGrant({ audience: API_AUDIENCE });
    assert.equal(grant.status, 200);
    assert.equal(grant.data.token_type, 'Bearer');
    assert.equal(grant.data.id_token, undefined);
    assert.equal(grant.data.refresh_token, undefined);
    const { header, payload } = decodeJwt(grant.data.access_token);
    assert.equal(header['typ'], 'JWT');
    assert.deepEqual([payload['iss'], payload['sub'], payload['azp'], payload['gty'], payload['aud'], payload['scope']],
      [`https://${domain}/`, 'service@clients', 'service', 'client-credentials', API_AUDIENCE, SERVICE_SCOPE]);
  });

  test('clientCredentialsGrant with clientAssertionSigningKey (private_key_jwt): the token, shaped as with a secret', async () => {
    const client = new AuthenticationClient({ domain, clientId: SIGNER, clientAssertionSigningKey: signerKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string });
    const grant = await client.oauth.clientCredentialsGrant({ audience: API_AUDIENCE });
    assert.equal(grant.status, 200);
    const { payload } = decodeJwt(grant.data.access_token);
    assert.deepEqual([payload['sub'], payload['gty'], payload['scope']], [`${SIGNER}@clients`, 'client-credentials', SERVICE_SCOPE]);
    // A secret is no credential of this client.
    const withSecret = new AuthenticationClient({ domain, clientId: SIGNER, clientSecret: 'a-secret-this-client-never-had' });
    await assert.rejects(withSecret.oauth.clientCredentialsGrant({ audience: API_AUDIENCE }), (err: Error & { error?: string }) => err.error === 'invalid_client');
  });

  test('clientCredentialsGrant as a client not marked machine-to-machine: unauthorized_client; a wrong secret: invalid_client', async () => {
    const client = new AuthenticationClient({ domain, clientId: CLIENT, clientSecret: SECRET });
    await assert.rejects(client.oauth.clientCredentialsGrant({ audience: API_AUDIENCE }), (err: Error & { error?: string }) => err.error === 'unauthorized_client');
    const wrong = new AuthenticationClient({ domain, clientId: 'service', clientSecret: 'not-the-service-secret' });
    await assert.rejects(wrong.oauth.clientCredentialsGrant({ audience: API_AUDIENCE }), (err: Error & { error?: string }) => err.error === 'invalid_client');
  });
});

// openid-client's client credentials grant against the same IdP as express-openid-connect, its
// token sent to the API: the service route answers, the user routes refuse a client's own token.
describe("openid-client's clientCredentialsGrant", () => {
  const serviceConfig = (auth: 'post' | 'basic') => oidc.discovery(new URL(idp.issuer), 'service', { client_secret: SERVICE_SECRET },
    auth === 'post' ? oidc.ClientSecretPost(SERVICE_SECRET) : oidc.ClientSecretBasic(SERVICE_SECRET), { execute: [oidc.allowInsecureRequests] });
  const call = (token: string, url: string) => api.app.inject({ url, headers: { authorization: `Bearer ${token}` } });

  test('with client_secret_post and client_secret_basic: a token the API takes at /api/ServiceOne and refuses at the user routes', async () => {
    for (const auth of ['post', 'basic'] as const) {
      const tokens = await oidc.clientCredentialsGrant(await serviceConfig(auth), { audience: API_AUDIENCE });
      assert.equal(tokens.token_type, 'bearer');
      assert.equal(tokens.scope, SERVICE_SCOPE);
      assert.equal(tokens.refresh_token, undefined);
      assert.equal(tokens.id_token, undefined);
      const service = await call(tokens.access_token, '/api/ServiceOne');
      assert.equal(service.statusCode, 200, service.body);
      assert.equal((await call(tokens.access_token, '/api/UserOne')).statusCode, 403);
      assert.equal((await call(tokens.access_token, '/api/notes')).statusCode, 403);
    }
  });

  test('a scope outside the client grant: access_denied, no token', async () => {
    await assert.rejects(oidc.clientCredentialsGrant(await serviceConfig('post'), { audience: API_AUDIENCE, scope: `${SERVICE_SCOPE} ${API_SCOPE}` }),
      (err: Error & { error?: string; status?: number }) => err.error === 'access_denied' && err.status === 403);
  });
});
