// private_key_jwt for machine-to-machine clients (docs/decisions/0077): a client registers public
// keys inline, signs a client assertion, and the IdP takes each one once, for itself only, for a
// short life, with a registered key and an asymmetric algorithm. openid-client's PrivateKeyJwt
// unchanged; hostile assertions made by hand with jose.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { SignJWT } from 'jose';
import { loadClients } from '../src/clients.ts';
import { startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import { startRedis, type RedisProcess } from '../../../tests/support/redis-process.ts';
import { API_AUDIENCE, decodeJwt, tokenRequest } from '../../../tests/support/oidc-rp.ts';

const SERVICE_SCOPE = 'auth0-service-api';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicJwk = (key: KeyObject, kid: string) => ({ ...key.export({ format: 'jwk' }), kid });

/** The demo clients plus `signer` (RSA key) and `other-signer` (P-256 key), both private_key_jwt machine clients. */
function clientsFile(dir: string): string {
  const doc = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'config', 'clients.json'), 'utf8'));
  for (const [clientId, key] of [['signer', publicJwk(rsa.publicKey, 'signer-1')], ['other-signer', publicJwk(ec.publicKey, 'other-1')]] as const) {
    doc.clients.push({
      client_id: clientId, machine_to_machine: true, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key] },
      grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
    });
    doc.client_grants.push({ client_id: clientId, audience: API_AUDIENCE, scope: [SERVICE_SCOPE] });
  }
  const file = join(dir, 'clients.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

let dir: string;
let idp: InProcessIdp;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'idp-pkjwt-'));
  idp = await startIdpInProcess({ IDP_CLIENTS_FILE: clientsFile(dir) });
});
after(async () => {
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

const now = () => Math.floor(Date.now() / 1000);
interface AssertionOptions { iss?: string; aud?: unknown; exp?: number; iat?: number | null; jti?: string; alg?: string; key?: KeyObject | Uint8Array }
/** A client assertion for `signer`, RS256 with its key, aud the issuer, 60 s: each field can be made hostile. */
async function assertion(issuer: string, o: AssertionOptions = {}): Promise<string> {
  const iss = o.iss ?? 'signer';
  const t = now();
  const claims: Record<string, unknown> = { iss, sub: iss, aud: 'aud' in o ? o.aud : issuer, jti: o.jti ?? randomUUID(), exp: o.exp ?? t + 60 };
  if (o.iat !== null) claims['iat'] = o.iat ?? t;
  return new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'RS256' }).sign(o.key ?? rsa.privateKey);
}
const grantWith = (issuer: string, clientAssertion: string, extra: Record<string, string> = {}) => tokenRequest(issuer, {
  grant_type: 'client_credentials', audience: API_AUDIENCE, client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion, ...extra,
});
async function assertRefused(clientAssertion: string, extra: Record<string, string> = {}): Promise<void> {
  const res = await grantWith(idp.issuer, clientAssertion, extra);
  assert.equal(res.status, 401, JSON.stringify(res.body));
  assert.equal(res.body['error'], 'invalid_client');
  assert.equal(res.body['access_token'], undefined);
}

describe('a private_key_jwt machine client', () => {
  test("openid-client's PrivateKeyJwt, unchanged: a machine token, as with a secret", async () => {
    const config = await oidc.discovery(new URL(idp.issuer), 'signer', {}, oidc.PrivateKeyJwt(rsa.privateKey.toCryptoKey({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign'])), { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.clientCredentialsGrant(config, { audience: API_AUDIENCE });
    assert.equal(tokens.scope, SERVICE_SCOPE);
    assert.equal(decodeJwt(tokens.access_token).payload['sub'], 'signer@clients');
    const p256 = await oidc.discovery(new URL(idp.issuer), 'other-signer', {}, oidc.PrivateKeyJwt(ec.privateKey.toCryptoKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])), { execute: [oidc.allowInsecureRequests] });
    assert.equal(decodeJwt((await oidc.clientCredentialsGrant(p256, { audience: API_AUDIENCE })).access_token).payload['sub'], 'other-signer@clients');
  });

  test('discovery names private_key_jwt and its algorithms, never none or an HMAC', async () => {
    const doc = (await (await fetch(new URL('/.well-known/openid-configuration', idp.issuer))).json()) as Record<string, unknown>;
    assert.ok((doc['token_endpoint_auth_methods_supported'] as string[]).includes('private_key_jwt'));
    assert.deepEqual(doc['token_endpoint_auth_signing_alg_values_supported'], ['RS256', 'PS256', 'ES256']);
  });

  test('an assertion is taken once: replayed after use, or sent several times at once, only one gets a token', async () => {
    const once = await assertion(idp.issuer);
    assert.equal((await grantWith(idp.issuer, once)).status, 200);
    await assertRefused(once);
    const raced = await assertion(idp.issuer);
    const answers = await Promise.all(Array.from({ length: 6 }, () => grantWith(idp.issuer, raced)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 401, 401, 401, 401, 401]);
  });

  test('an audience other than the issuer identifier (the token endpoint, another server, a list) is refused', async () => {
    const issuer = idp.issuer;
    for (const aud of [`${issuer}/oauth/token`, `${issuer}/oauth/introspect`, 'https://another-server.example/', [issuer], [issuer, 'https://another-server.example/'], `${issuer}/`, undefined]) {
      await assertRefused(await assertion(idp.issuer, { aud }));
    }
  });

  test('expired, or living longer than five minutes, is refused', async () => {
    const t = now();
    await assertRefused(await assertion(idp.issuer, { iat: t - 600, exp: t - 60 }));
    await assertRefused(await assertion(idp.issuer, { iat: t, exp: t + 3600 }));
    await assertRefused(await assertion(idp.issuer, { iat: null, exp: t + 3600 }));
    await assertRefused(await assertion(idp.issuer, { iat: t - 3000, exp: t + 60 }));
    assert.equal((await grantWith(idp.issuer, await assertion(idp.issuer, { iat: t, exp: t + 300 }))).status, 200);
  });

  test("another client's key, alg none, HS256 with the public key as secret, or a secret instead: refused", async () => {
    await assertRefused(await assertion(idp.issuer, { key: ec.privateKey, alg: 'ES256' }));
    const t = now();
    const body = Buffer.from(JSON.stringify({ iss: 'signer', sub: 'signer', aud: idp.issuer, jti: randomUUID(), exp: t + 60, iat: t })).toString('base64url');
    await assertRefused(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`);
    const jwk = rsa.publicKey.export({ format: 'jwk' });
    for (const secret of [rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string, JSON.stringify(jwk), String(jwk.n)]) {
      await assertRefused(await assertion(idp.issuer, { alg: 'HS256', key: new TextEncoder().encode(secret) }));
    }
    const secretInstead = await tokenRequest(idp.issuer, { grant_type: 'client_credentials', audience: API_AUDIENCE, client_id: 'signer', client_secret: 'a-secret-the-signer-never-had' });
    assert.equal(secretInstead.body['error'], 'invalid_client');
  });
});

describe('the keys of a private_key_jwt client in the clients file', () => {
  function load(edit: (entry: Record<string, unknown>) => void): () => unknown {
    const doc = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'config', 'clients.json'), 'utf8'));
    const entry: Record<string, unknown> = {
      client_id: 'signer', machine_to_machine: true, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk(rsa.publicKey, 'k')] },
      grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
    };
    edit(entry);
    doc.clients.push(entry);
    const file = join(dir, `clients-${randomUUID()}.json`);
    writeFileSync(file, JSON.stringify(doc));
    return () => loadClients(file, {}, false);
  }

  test('inline public RSA (2048 bits or more) or P-256 keys only, no jwks_uri, no secret needed', () => {
    assert.ok(load(() => {})());
    assert.throws(load((e) => { e['jwks_uri'] = 'https://keys.example/jwks.json'; delete e['jwks']; }), /jwks_uri is not fetched/);
    assert.throws(load((e) => { e['jwks'] = { keys: [rsa.privateKey.export({ format: 'jwk' })] }; }), /is a private or symmetric key/);
    assert.throws(load((e) => { e['jwks'] = { keys: [{ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' }] }; }), /is a private or symmetric key/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    assert.throws(load((e) => { e['jwks'] = { keys: [publicJwk(small, 'small')] }; }), /RSA key of at least 2048 bits or a P-256 key/);
    assert.throws(load((e) => { e['jwks'] = { keys: [] }; }), /needs jwks with at least one public key/);
    assert.throws(load((e) => { e['token_endpoint_auth_signing_alg'] = 'HS256'; }), /token_endpoint_auth_signing_alg must be one of RS256, PS256, ES256/);
    assert.throws(load((e) => { e['token_endpoint_auth_method'] = 'client_secret_basic'; e['dev_client_secret'] = 'a-development-secret'; }), /jwks is for clients registered with token_endpoint_auth_method "private_key_jwt"/);
  });
});

describe('replay detection on Redis', () => {
  let redis: RedisProcess;
  let onRedis: InProcessIdp;
  before(async () => {
    redis = await startRedis();
    onRedis = await startIdpInProcess({ IDP_CLIENTS_FILE: clientsFile(dir), IDP_STORE: 'redis', IDP_REDIS_URL: redis.url });
  });
  after(async () => {
    await onRedis?.close();
    await redis?.stop();
  });

  test('an assertion sent several times at once gets one token', async () => {
    const raced = await assertion(onRedis.issuer);
    const answers = await Promise.all(Array.from({ length: 6 }, () => grantWith(onRedis.issuer, raced)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 401, 401, 401, 401, 401]);
    assert.equal((await grantWith(onRedis.issuer, raced)).status, 401);
  });
});
