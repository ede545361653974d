// Pointed at an Auth0-shaped issuer, the API accepts Auth0's access tokens unchanged: issuer with a
// trailing slash, header typ JWT, aud an array with the userinfo audience, azp without client_id,
// RBAC permissions beside the scope. Only configuration differs (see the README).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bearer, startApi, type TestApi } from './support/api.ts';
import { AUDIENCE, SCOPE, startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

let idp: TestIssuer;
let api: TestApi;

before(async () => {
  idp = await startTestIssuer({ trailingSlash: true, withIntrospection: false });
  api = await startApi(idp, { AUTH_TOKEN_TYPES: 'at+jwt,JWT', AUTH_TOKEN_FORMAT: 'jwt', AUTH_ALLOWED_CLIENTS: 'Xk3aAuth0SpaClientId' });
});
after(async () => {
  await api.dispose();
  await idp.close();
});

function auth0Claims(extra: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: idp.issuer, sub: 'auth0|alice', aud: [AUDIENCE, `${idp.issuer}userinfo`], iat: now, exp: now + 86400,
    azp: 'Xk3aAuth0SpaClientId', scope: `openid profile email ${SCOPE}`, permissions: ['read:data'], ...extra,
  };
}

test('the configured issuer keeps its trailing slash, and Auth0\'s tokens pass as they are', async () => {
  assert.ok(idp.issuer.endsWith('/'));
  const res = await api.app.inject({ url: '/api/UserOne', headers: bearer(await idp.sign(auth0Claims(), { header: { typ: 'JWT' } })) });
  assert.equal(res.statusCode, 200);
  const rfc9068 = await idp.sign(auth0Claims({ azp: undefined, client_id: 'Xk3aAuth0SpaClientId', jti: 'a1b2c3' }), { header: { typ: 'at+jwt' } });
  assert.equal((await api.app.inject({ url: '/api/UserOne', headers: bearer(rfc9068) })).statusCode, 200, 'Auth0 RFC 9068 profile');
});

test('each profile needs the claim that names its client: azp for typ JWT, client_id (and jti) for at+jwt', async () => {
  const auth0WithoutAzp = await idp.sign(auth0Claims({ azp: undefined, client_id: 'Xk3aAuth0SpaClientId' }), { header: { typ: 'JWT' } });
  assert.equal((await api.app.inject({ url: '/api/UserOne', headers: bearer(auth0WithoutAzp) })).statusCode, 401, 'typ JWT without azp');
  const rfc9068WithoutJti = await idp.sign(auth0Claims({ azp: undefined, client_id: 'Xk3aAuth0SpaClientId' }), { header: { typ: 'at+jwt' } });
  assert.equal((await api.app.inject({ url: '/api/UserOne', headers: bearer(rfc9068WithoutJti) })).statusCode, 401, 'at+jwt without jti');
  const both = await idp.sign(auth0Claims({ client_id: 'Xk3aAuth0SpaClientId', jti: 'j' }), { header: { typ: 'at+jwt' } });
  assert.equal((await api.app.inject({ url: '/api/UserOne', headers: bearer(both) })).statusCode, 200, 'azp and client_id naming the same client');
});

test('the issuer without its trailing slash is another issuer', async () => {
  const res = await api.app.inject({ url: '/api/UserOne', headers: bearer(await idp.sign(auth0Claims({ iss: idp.issuer.slice(0, -1) }), { header: { typ: 'JWT' } })) });
  assert.equal(res.statusCode, 401);
});

test('an Auth0 ID token (aud = the client id) is still refused', async () => {
  const res = await api.app.inject({ url: '/api/UserOne', headers: bearer(await idp.sign(auth0Claims({ aud: 'Xk3aAuth0SpaClientId', nonce: 'n' }), { header: { typ: 'JWT' } })) });
  assert.equal(res.statusCode, 401);
});

test('no introspection endpoint (Auth0 has none): opaque tokens are invalid, never a 5xx', async () => {
  const res = await api.app.inject({ url: '/api/UserOne', headers: bearer('opaqueAuth0Token0123456789abcdef') });
  assert.equal(res.statusCode, 401);
});
