// Machine-to-machine tokens from the real IdP (client_credentials, docs/decisions/0070): validated
// as any token (JWT in both of Auth0's profiles, or introspected), admitted by the service policy
// at /api/ServiceOne, and never taken for a user where the route acts for one (the notes, keyed by
// sub), even when the client's grant and AUTH_ALLOWED_CLIENTS would let a user's token through.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import { API_AUDIENCE, API_SCOPE, login, rpConfig, tokenRequest } from '../../../tests/support/oidc-rp.ts';
import { buildApi, type Api } from '../src/app.ts';
import { readApiConfig } from '../src/config.ts';

const SERVICE_SCOPE = 'auth0-service-api';
const SERVICE_SECRET = 'dev-service-secret-change-me';

let dir: string;
/** The demo clients, the service's grant widened to the users' API scope too (the worst case for the user routes). */
function clientsFile(): string {
  const doc = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'idp', 'config', 'clients.json'), 'utf8'));
  doc.client_grants[0].scope = [SERVICE_SCOPE, API_SCOPE];
  const file = join(dir, 'clients.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

async function apiFor(issuer: string, env: Record<string, string> = {}): Promise<Api> {
  const dataDir = mkdtempSync(join(dir, 'api-'));
  const api = buildApi(readApiConfig({ AUTH_AUTHORITY: issuer, API_DATA_DIR: dataDir, AUTH_TOKEN_TYPES: 'at+jwt,JWT', ...env }), { logger: false });
  await api.authority.start();
  return api;
}

const call = (api: Api, token: string, url: string, method: 'GET' | 'POST' = 'GET') =>
  api.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(method === 'POST' ? { payload: { text: 'a note' } } : {}) });

async function serviceToken(idp: InProcessIdp, scope?: string): Promise<string> {
  const res = await tokenRequest(idp.issuer, { grant_type: 'client_credentials', client_id: 'service', client_secret: SERVICE_SECRET, audience: API_AUDIENCE, ...(scope ? { scope } : {}) });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return String(res.body['access_token']);
}

/** What a service token may and may not do at this API. */
async function assertServiceRoutes(api: Api, token: string): Promise<void> {
  const service = await call(api, token, '/api/ServiceOne');
  assert.equal(service.statusCode, 200, service.body);
  assert.deepEqual(service.json(), ['service one data']);
  for (const [url, method] of [['/api/UserOne', 'GET'], ['/api/notes', 'GET'], ['/api/notes', 'POST'], ['/api/notes/x', 'DELETE']] as const) {
    const res = await api.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(method === 'POST' ? { payload: { text: 'a note' } } : {}) });
    assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
    assert.equal(res.json().status, 403);
  }
}

describe('machine-to-machine tokens at the API', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'api-m2m-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, idpEnv] of [['RFC 9068 JWT', {}], ["Auth0's JWT profile", { IDP_ACCESS_TOKEN_PROFILE: 'auth0' }], ['reference token (introspected)', { IDP_ACCESS_TOKEN_FORMAT: 'opaque' }]] as const) {
    test(`${name}: the service route admits it; the user routes refuse it even with the user scope and the client allowed`, async () => {
      const idp = await startIdpInProcess({ IDP_CLIENTS_FILE: clientsFile(), ...idpEnv });
      const api = await apiFor(idp.issuer, { AUTH_ALLOWED_CLIENTS: 'spa,service' });
      try {
        await assertServiceRoutes(api, await serviceToken(idp));
        // Alice's token: her routes, not the service's.
        const { tokens } = await login(await rpConfig(idp.issuer, 'spa'), 'alice', 'demo-alice');
        assert.equal((await call(api, tokens.access_token, '/api/UserOne')).statusCode, 200);
        assert.equal((await call(api, tokens.access_token, '/api/notes', 'POST')).statusCode, 201);
        assert.equal((await call(api, tokens.access_token, '/api/ServiceOne')).statusCode, 403);
        // No note was ever kept under the service's subject.
        assert.deepEqual(api.store.list('service@clients'), []);
      } finally {
        await api.app.close();
        await idp.close();
      }
    });
  }

  test('the service policy needs its scope and an allowed service client; production allows none until named', async () => {
    const idp = await startIdpInProcess({ IDP_CLIENTS_FILE: clientsFile() });
    const apis: Api[] = [];
    try {
      const narrow = await serviceToken(idp, API_SCOPE);
      const full = await serviceToken(idp);
      const api = await apiFor(idp.issuer);
      apis.push(api);
      const noScope = await call(api, narrow, '/api/ServiceOne');
      assert.equal(noScope.statusCode, 403);
      assert.match(String(noScope.headers['www-authenticate']), /insufficient_scope.*scope="auth0-service-api"/);
      const other = await apiFor(idp.issuer, { AUTH_ALLOWED_SERVICE_CLIENTS: 'another-service' });
      apis.push(other);
      assert.equal((await call(other, full, '/api/ServiceOne')).statusCode, 403);
      const production = await apiFor(idp.issuer, { API_PROFILE: 'production', AUTH_ALLOWED_CLIENTS: 'spa' });
      apis.push(production);
      assert.equal((await call(production, full, '/api/ServiceOne')).statusCode, 403);
      const named = await apiFor(idp.issuer, { API_PROFILE: 'production', AUTH_ALLOWED_CLIENTS: 'spa', AUTH_ALLOWED_SERVICE_CLIENTS: 'service' });
      apis.push(named);
      assert.equal((await call(named, full, '/api/ServiceOne')).statusCode, 200);
    } finally {
      for (const api of apis) await api.app.close();
      await idp.close();
    }
  });
});
