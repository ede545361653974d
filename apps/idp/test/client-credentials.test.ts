// Machine-to-machine clients as Auth0 has them (docs/decisions/0069): the client_credentials grant
// only for clients marked machine_to_machine, only for the APIs and scopes of their client grants,
// Auth0's token shape and Auth0's refusals, each refusal audited and no token issued.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClients } from '../src/clients.ts';
import { startIdpInProcess, withIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import { API_AUDIENCE, API_SCOPE, DEV_API_SECRET, DEV_BFF_SECRET, decodeJwt, tokenRequest } from '../../../tests/support/oidc-rp.ts';

const SERVICE_SECRET = 'dev-service-secret-change-me';
const SERVICE_SCOPE = 'auth0-service-api';
const OTHER_API = 'https://other-api';
const demoClients = () => JSON.parse(readFileSync(join(import.meta.dirname, '..', 'config', 'clients.json'), 'utf8'));

/** A clients file with a second API and a second machine client (`reporter`, client_secret_basic, a default audience). */
function clientsWithSecondApi(dir: string): string {
  const doc = demoClients();
  doc.resources.push({ identifier: OTHER_API, scopes: ['read:reports', 'write:reports'] });
  doc.clients.push({
    client_id: 'reporter', machine_to_machine: true, token_endpoint_auth_method: 'client_secret_basic',
    client_secret_env: 'IDP_TEST_REPORTER_SECRET', dev_client_secret: 'dev-reporter-secret-change-me',
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], default_audience: OTHER_API,
  });
  doc.client_grants.push({ client_id: 'reporter', audience: OTHER_API, scope: ['read:reports', 'write:reports'] });
  const file = join(dir, 'clients.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

const service = (form: Record<string, string> = {}) => ({ grant_type: 'client_credentials', client_id: 'service', client_secret: SERVICE_SECRET, audience: API_AUDIENCE, ...form });

let idp: InProcessIdp;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'idp-m2m-'));
  idp = await startIdpInProcess({ IDP_CLIENTS_FILE: clientsWithSecondApi(dir) });
});
after(async () => {
  await idp.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Asserts a refusal: the status and error, no token of any kind, and a token_error audit line. */
async function assertRefused(form: Record<string, string>, status: number, error: string, description?: RegExp, basic?: [string, string]): Promise<void> {
  const before = idp.logs.length;
  const res = await tokenRequest(idp.issuer, form, basic);
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body['error'], error);
  if (description) assert.match(String(res.body['error_description']), description);
  assert.equal(res.body['access_token'], undefined);
  const audit = idp.logs.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(audit.some((l) => l['event'] === 'token_error' && l['error'] === error), `audited: ${JSON.stringify(audit)}`);
  assert.ok(!audit.some((l) => l['event'] === 'tokens_issued'));
}

describe('the token of a machine-to-machine client', () => {
  test("is Auth0's: an access token only, sub <client_id>@clients, gty, the API alone as aud, the granted scope", async () => {
    const before = idp.logs.length;
    const res = await tokenRequest(idp.issuer, service());
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    assert.equal(res.body['token_type'], 'Bearer');
    assert.equal(res.body['expires_in'], 300);
    assert.equal(res.body['scope'], SERVICE_SCOPE);
    const { header, payload } = decodeJwt(String(res.body['access_token']));
    assert.equal(header['typ'], 'at+jwt');
    assert.equal(payload['sub'], 'service@clients');
    assert.equal(payload['client_id'], 'service');
    assert.equal(payload['gty'], 'client-credentials');
    assert.equal(payload['aud'], API_AUDIENCE);
    assert.equal(payload['scope'], SERVICE_SCOPE);
    assert.equal(payload['iss'], idp.issuer);
    const issued = idp.logs.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['event'] === 'tokens_issued');
    assert.equal(issued?.['grantType'], 'client_credentials');
    assert.equal(issued?.['clientId'], 'service');
  });

  test("in Auth0's profile: typ JWT, azp and no client_id", async () => {
    await withIdpInProcess({ IDP_ACCESS_TOKEN_PROFILE: 'auth0' }, {}, async (auth0) => {
      const res = await tokenRequest(auth0.issuer, service());
      const { header, payload } = decodeJwt(String(res.body['access_token']));
      assert.equal(header['typ'], 'JWT');
      assert.equal(payload['azp'], 'service');
      assert.equal(payload['client_id'], undefined);
      assert.equal(payload['sub'], 'service@clients');
      assert.equal(payload['gty'], 'client-credentials');
      assert.equal(payload['aud'], API_AUDIENCE);
    });
  });

  test('as a reference token: introspection names the client as the subject, with gty', async () => {
    await withIdpInProcess({ IDP_ACCESS_TOKEN_FORMAT: 'opaque' }, {}, async (opaque) => {
      const res = await tokenRequest(opaque.issuer, service());
      assert.ok(!String(res.body['access_token']).includes('.'));
      const introspection = await fetch(new URL('/oauth/introspect', opaque.issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`api:${DEV_API_SECRET}`).toString('base64')}` },
        body: new URLSearchParams({ token: String(res.body['access_token']) }).toString(),
      });
      const answer = (await introspection.json()) as Record<string, unknown>;
      assert.equal(answer['active'], true);
      assert.equal(answer['sub'], 'service@clients');
      assert.equal(answer['gty'], 'client-credentials');
      assert.equal(answer['client_id'], 'service');
      assert.equal(answer['aud'], API_AUDIENCE);
      assert.equal(answer['scope'], SERVICE_SCOPE);
    });
  });

  test('client_secret_basic works as well as client_secret_post, whichever the client registered', async () => {
    const basic = await tokenRequest(idp.issuer, { grant_type: 'client_credentials', audience: API_AUDIENCE }, ['service', SERVICE_SECRET]);
    assert.equal(basic.status, 200);
    const post = await tokenRequest(idp.issuer, { grant_type: 'client_credentials', client_id: 'reporter', client_secret: 'dev-reporter-secret-change-me' });
    assert.equal(post.status, 200);
  });

  test('what is enforced is the kind of credential: a secret from a public client, none from a confidential one, is invalid_client', async () => {
    await assertRefused({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'spa', client_secret: 'a-secret-the-spa-never-had' }, 401, 'invalid_client');
    await assertRefused({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'bff' }, 401, 'invalid_client');
  });
});

describe('the scope of a machine-to-machine token', () => {
  test('is every scope the client grant holds when none is asked, and what is asked when the grant holds it', async () => {
    const all = await tokenRequest(idp.issuer, { grant_type: 'client_credentials', audience: OTHER_API }, ['reporter', 'dev-reporter-secret-change-me']);
    assert.equal(all.body['scope'], 'read:reports write:reports');
    const one = await tokenRequest(idp.issuer, { grant_type: 'client_credentials', audience: OTHER_API, scope: 'read:reports' }, ['reporter', 'dev-reporter-secret-change-me']);
    assert.equal(one.body['scope'], 'read:reports');
    assert.equal(decodeJwt(String(one.body['access_token'])).payload['scope'], 'read:reports');
  });

  test('is never wider than granted: a scope outside the grant is refused with access_denied naming it, not dropped', async () => {
    // A scope of the same API the grant lacks, OpenID scopes, a scope nobody defines; alone or beside a granted one.
    for (const scope of [API_SCOPE, `${SERVICE_SCOPE} ${API_SCOPE}`, 'openid', 'offline_access', 'read:reports', 'made-up']) {
      const missing = scope.split(' ').filter((s) => s !== SERVICE_SCOPE).join(' ');
      await assertRefused(service({ scope }), 403, 'access_denied', new RegExp(`^Client has not been granted scopes: ${missing}$`));
    }
  });
});

describe('the audience of a machine-to-machine request', () => {
  test('is required unless the client has a default audience', async () => {
    await assertRefused({ grant_type: 'client_credentials', client_id: 'service', client_secret: SERVICE_SECRET }, 403, 'access_denied', /^No audience parameter was provided/);
    const byDefault = await tokenRequest(idp.issuer, { grant_type: 'client_credentials' }, ['reporter', 'dev-reporter-secret-change-me']);
    assert.equal(decodeJwt(String(byDefault.body['access_token'])).payload['aud'], OTHER_API);
  });

  test('an API nobody defines, or one the client holds no grant for, is refused with access_denied', async () => {
    await assertRefused(service({ audience: 'https://unknown-api' }), 403, 'access_denied', /^Service not enabled within domain: https:\/\/unknown-api$/);
    await assertRefused(service({ audience: OTHER_API }), 403, 'access_denied', /^Client "service" is not authorized to access resource server "https:\/\/other-api"$/);
    // RFC 8707's resource parameter is held to the same grants.
    await assertRefused({ grant_type: 'client_credentials', client_id: 'service', client_secret: SERVICE_SECRET, resource: OTHER_API }, 403, 'access_denied', /not authorized to access/);
    assert.equal((await tokenRequest(idp.issuer, { grant_type: 'client_credentials', client_id: 'service', client_secret: SERVICE_SECRET, resource: API_AUDIENCE })).status, 200);
  });

  test('two APIs at once are refused: audience twice, or audience and resource naming different ones', async () => {
    const res = await fetch(new URL('/oauth/token', idp.issuer), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&client_id=service&client_secret=${SERVICE_SECRET}&audience=${encodeURIComponent(API_AUDIENCE)}&audience=${encodeURIComponent(OTHER_API)}`,
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as Record<string, unknown>)['error'], 'invalid_request');
    await assertRefused(service({ resource: OTHER_API }), 400, 'invalid_target');
  });
});

describe('who may use client_credentials', () => {
  test('a wrong secret, no secret, a client assertion from a client registered with a secret: invalid_client', async () => {
    await assertRefused(service({ client_secret: 'not-the-secret-at-all' }), 401, 'invalid_client');
    await assertRefused({ grant_type: 'client_credentials', audience: API_AUDIENCE }, 401, 'invalid_client', undefined, ['service', 'not-the-secret-at-all']);
    const { client_secret: _secret, ...withoutSecret } = service();
    await assertRefused(withoutSecret, 401, 'invalid_client');
    const assertion = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'service', sub: 'service', aud: idp.issuer, exp: 9999999999, jti: 'x' })).toString('base64url')}.`;
    await assertRefused({ ...withoutSecret, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }, 401, 'invalid_client');
  });

  test('a client not marked machine-to-machine gets unauthorized_client: the public SPA, the confidential BFF', async () => {
    await assertRefused({ grant_type: 'client_credentials', client_id: 'spa', audience: API_AUDIENCE }, 400, 'unauthorized_client', /^Grant type 'client_credentials' not allowed for the client\.$/);
    await assertRefused({ grant_type: 'client_credentials', audience: API_AUDIENCE }, 400, 'unauthorized_client', undefined, ['bff', DEV_BFF_SECRET]);
  });

  test('a machine-to-machine client asking any other grant gets unauthorized_client, as every client asking a grant not its own', async () => {
    await assertRefused(service({ grant_type: 'authorization_code', code: 'x', code_verifier: 'y'.repeat(43), redirect_uri: 'http://localhost:4200' }), 400, 'unauthorized_client');
    await assertRefused(service({ grant_type: 'refresh_token', refresh_token: 'x' }), 400, 'unauthorized_client');
    // Swagger UI's client has no refresh tokens.
    await assertRefused({ grant_type: 'refresh_token', client_id: 'swagger', refresh_token: 'x' }, 400, 'unauthorized_client');
  });
});

describe('the clients file', () => {
  const load = (edit: (doc: Record<string, any>) => void) => {
    const doc = demoClients();
    edit(doc);
    const file = join(dir, `edited-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(doc));
    return () => loadClients(file, {}, false);
  };
  const serviceEntry = (doc: Record<string, any>) => doc['clients'].find((c: { client_id: string }) => c.client_id === 'service');

  test('refuses a machine-to-machine client without a secret or without the grant type, and client_credentials for any other client', () => {
    assert.throws(load((d) => { serviceEntry(d).token_endpoint_auth_method = 'none'; }), /machine_to_machine needs a confidential client/);
    assert.throws(load((d) => { serviceEntry(d).grant_types = []; }), /machine_to_machine needs "client_credentials"/);
    assert.throws(load((d) => { d['clients'][3].grant_types.push('client_credentials'); }), /client bff: client_credentials and default_audience are for clients marked machine_to_machine/);
    assert.throws(load((d) => { d['clients'][3].default_audience = API_AUDIENCE; }), /client bff: .*machine_to_machine/);
  });

  test('refuses a client grant for another client, an unknown API, a scope the API lacks, a second grant of one API; a default audience without a grant', () => {
    assert.throws(load((d) => { d['client_grants'].push({ client_id: 'bff', audience: API_AUDIENCE, scope: [] }); }), /client_grants\[1\]: client_id must name a client marked machine_to_machine/);
    assert.throws(load((d) => { d['client_grants'][0].audience = 'https://unknown-api'; }), /client_grants\[0\]: audience must be the identifier of a resource/);
    assert.throws(load((d) => { d['client_grants'][0].scope = ['openid']; }), /client_grants\[0\]: scope must list scopes of/);
    assert.throws(load((d) => { d['client_grants'].push(d['client_grants'][0]); }), /client_grants\[1\]: a second grant/);
    assert.throws(load((d) => { serviceEntry(d).default_audience = 'https://unknown-api'; }), /default_audience must be an audience of one of its client_grants/);
  });
});
