// The hostile token corpus: every forged, malformed, misdirected or stale token is refused with
// the right status and WWW-Authenticate, and nothing makes the API fetch a key from elsewhere.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CompactEncrypt, exportJWK, exportSPKI, generateKeyPair, type JWTPayload } from 'jose';
import { bearer, startApi, type TestApi } from './support/api.ts';
import { b64u, signHmac, signRaw } from './support/raw-jws.ts';
import { AUDIENCE, SCOPE, startTestIssuer, type TestIssuer, type TestKey } from './support/test-issuer.ts';

const INVALID = 'Bearer error="invalid_token", error_description="The access token is invalid."';
const INSUFFICIENT = `Bearer error="insufficient_scope", error_description="The access token lacks a required scope.", scope="${SCOPE}"`;

let idp: TestIssuer;
let api: TestApi;
let rsa: TestKey;
let ec: TestKey;
let attacker: TestKey;
let attackerServer: Server;
let attackerHits = 0;
let attackerUrl: string;

before(async () => {
  idp = await startTestIssuer();
  rsa = idp.published[0]!;
  ec = await idp.newKey('ES256', 'ec-1');
  idp.published.push(ec);
  attacker = { ...(await idp.newKey('RS256', 'attacker')) };
  idp.keys.pop();
  attackerServer = createServer((_req, res) => {
    attackerHits++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [{ ...attacker.publicJwk, kid: 'rsa-1' }] }));
  });
  await new Promise<void>((r) => attackerServer.listen(0, '127.0.0.1', r));
  attackerUrl = `http://127.0.0.1:${(attackerServer.address() as AddressInfo).port}`;
  // A long cooldown: no unknown kid below may cause a second JWKS fetch.
  api = await startApi(idp, { AUTH_ALGORITHMS: 'RS256,ES256', AUTH_JWKS_COOLDOWN: '3600' });
});

after(async () => {
  await api.dispose();
  await idp.close();
  attackerServer.closeAllConnections();
  await new Promise<void>((r) => attackerServer.close(() => r()));
});

async function call(token: string | undefined, headers: Record<string, string | string[]> = {}, url = '/api/UserOne') {
  return api.app.inject({ method: 'GET', url, headers: { ...(token === undefined ? {} : bearer(token)), ...headers } });
}

async function expectInvalid(token: string, why: string): Promise<void> {
  const res = await call(token);
  assert.equal(res.statusCode, 401, `${why}: status`);
  assert.equal(res.headers['www-authenticate'], INVALID, `${why}: WWW-Authenticate`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.deepEqual(res.json(), { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'The access token is invalid.', error: 'invalid_token' });
}

const header = (extra: Record<string, unknown> = {}) => ({ alg: 'RS256', typ: 'at+jwt', kid: 'rsa-1', ...extra });

test('the control case: a valid token passes', async () => {
  const res = await call(await idp.sign());
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), ['user one data']);
});

describe('algorithm confusion', () => {
  test('alg none, in any case, with or without a signature', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const unsigned = `${b64u({ alg, typ: 'at+jwt' })}.${b64u(idp.claims())}`;
      await expectInvalid(`${unsigned}.`, `${alg} empty signature`);
      await expectInvalid(unsigned, `${alg} two segments`);
      await expectInvalid(`${unsigned}.${b64u('sig')}`, `${alg} junk signature`);
    }
  });

  test('HS256 signed with the public key (PEM, JWK JSON, modulus)', async () => {
    const pub = await (await import('jose')).importJWK(rsa.publicJwk, 'RS256');
    const pem = await exportSPKI(pub as Parameters<typeof exportSPKI>[0]);
    for (const secret of [pem, JSON.stringify(rsa.publicJwk), Buffer.from(String(rsa.publicJwk.n), 'base64url')]) {
      await expectInvalid(signHmac(header({ alg: 'HS256' }), idp.claims(), secret), 'HS256');
    }
  });

  test('a token declaring an algorithm its key is not for (ES256 header on the RSA key, PS256 not allowed)', async () => {
    await expectInvalid(signRaw(header({ alg: 'ES256' }), idp.claims(), rsa.privateKey), 'ES256 header, RSA kid');
    await expectInvalid(signRaw(header({ alg: 'PS256' }), idp.claims(), rsa.privateKey), 'PS256 not in the allowlist');
  });
});

describe('keys from anywhere but the JWKS', () => {
  test('embedded jwk with the attacker key (under a known and an unknown kid)', async () => {
    for (const kid of ['rsa-1', 'attacker']) {
      await expectInvalid(signRaw(header({ kid, jwk: { ...attacker.publicJwk, kid } }), idp.claims(), attacker.privateKey), `jwk ${kid}`);
    }
  });

  test('jku, x5u and x5c pointing elsewhere: refused, and nothing is fetched', async () => {
    const before = idp.jwksFetches;
    const { x5c } = { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] };
    for (const extra of [{ jku: `${attackerUrl}/jwks` }, { x5u: `${attackerUrl}/cert.pem` }, { x5c }, { jku: `${attackerUrl}/jwks`, kid: 'attacker' }]) {
      await expectInvalid(signRaw(header(extra), idp.claims(), attacker.privateKey), JSON.stringify(Object.keys(extra)));
    }
    assert.equal(attackerHits, 0, 'the API fetched from a URL in a token header');
    assert.equal(idp.jwksFetches, before, 'no JWKS refetch for these');
  });

  test('kid injection strings are only ever a map key', async () => {
    const kids = ['../../../../../../dev/null', "' OR '1'='1", 'rsa-1\' --', 'rsa-1\u0000', '{"$ne":null}', `${attackerUrl}/jwks`, 'a'.repeat(300), '', 42, null, ['rsa-1'], { kid: 'rsa-1' }];
    for (const kid of kids) {
      await expectInvalid(signRaw(header({ kid }), idp.claims(), attacker.privateKey), `kid ${JSON.stringify(kid).slice(0, 40)}`);
    }
    assert.equal(attackerHits, 0);
  });
});

describe('signatures', () => {
  test('a zero ECDSA signature (r = s = 0) and an all-ones one', async () => {
    const input = `${b64u(header({ alg: 'ES256', kid: 'ec-1' }))}.${b64u(idp.claims())}`;
    await expectInvalid(`${input}.${Buffer.alloc(64).toString('base64url')}`, 'zero signature');
    await expectInvalid(`${input}.${Buffer.alloc(64, 0xff).toString('base64url')}`, 'ones signature');
    await expectInvalid(`${input}.${Buffer.alloc(8).toString('base64url')}`, 'short ECDSA signature');
    // The control: the same key, properly signed, passes.
    assert.equal((await call(await idp.sign(undefined, { key: ec }))).statusCode, 200);
  });

  test('stripped, swapped, truncated and bit-flipped signatures', async () => {
    const a = await idp.sign(idp.claims({ sub: 'alice' }));
    const b = await idp.sign(idp.claims({ sub: 'mallory' }));
    const [ah, ap, as] = a.split('.');
    const [, bp] = b.split('.');
    await expectInvalid(`${ah}.${ap}.`, 'stripped');
    await expectInvalid(`${ah}.${bp}.${as}`, 'payload swapped under a signature');
    await expectInvalid(`${ah}.${ap}.${as!.slice(0, -10)}`, 'truncated');
    const flipped = Buffer.from(as!, 'base64url');
    flipped[10]! ^= 1;
    await expectInvalid(`${ah}.${ap}.${flipped.toString('base64url')}`, 'bit flipped');
    const otherSig = (await idp.sign()).split('.')[2];
    await expectInvalid(`${ah}.${ap}.${otherSig}`, 'signature of another token');
  });
});

describe('malformed compact serialisation', () => {
  test('wrong segment counts', async () => {
    const good = await idp.sign();
    const [h, p, s] = good.split('.');
    for (const t of [h!, `${h}.${p}`, `${h}.${p}.${s}.${s}`, `${h}..${s}`, `.${p}.${s}`, `${good}.`, `.${good}`, `${h}.${p}.${s}.x.y`]) {
      await expectInvalid(t, `segments ${t.split('.').length}`);
    }
  });

  test('text that is not base64url', async () => {
    const good = await idp.sign();
    const [h, p, s] = good.split('.');
    await expectInvalid(`${h}.${p}.${s!.slice(0, 20)}+/${s!.slice(22)}`, 'standard base64 in signature');
    await expectInvalid(`${h}=.${p}.${s}`, 'padding');
    await expectInvalid(`${h!.slice(0, -1)}~.${p}.${s}`, 'tilde');
    await expectInvalid(`${h}.${p}a.${s}`, 'length 1 mod 4');
    const res = await call(undefined, { authorization: `Bearer ${h}.${p}.$$$` });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], INVALID);
  });

  test('header or payload that is not a JSON object', async () => {
    const claims = b64u(idp.claims());
    for (const h of ['"RS256"', '[{"alg":"RS256"}]', 'null', '42', '{"alg":"RS256"', 'not json']) {
      await expectInvalid(`${b64u(h)}.${claims}.${b64u('sig')}`, `header ${h}`);
    }
    // Properly signed by the real key, but the payload is not a claims object.
    for (const p of ['[]', '"alice"', 'null', '{"sub":', '12']) {
      await expectInvalid(signRaw(header(), p, rsa.privateKey), `payload ${p}`);
    }
  });

  test('an oversized token is refused before parsing', async () => {
    const big = await idp.sign(idp.claims({ padding: 'x'.repeat(5000) }));
    await expectInvalid(big, 'oversized');
  });

  test('a nested JWT (cty JWT, payload a token) and a JWE', async () => {
    const inner = await idp.sign();
    await expectInvalid(signRaw(header({ cty: 'JWT' }), inner, rsa.privateKey), 'nested with cty');
    await expectInvalid(signRaw(header(), inner, rsa.privateKey), 'nested without cty');
    const { publicKey } = await generateKeyPair('RSA-OAEP-256');
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(idp.claims())))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', typ: 'at+jwt', kid: 'rsa-1' }).encrypt(publicKey);
    assert.equal(jwe.split('.').length, 5);
    await expectInvalid(jwe, 'JWE');
    await expectInvalid(signRaw(header({ enc: 'A256GCM' }), idp.claims(), rsa.privateKey), 'enc in a JWS header');
  });

  test('crit with an unknown extension, and b64=false', async () => {
    await expectInvalid(signRaw(header({ crit: ['http://example.com/ext'], 'http://example.com/ext': true }), idp.claims(), rsa.privateKey), 'crit');
    await expectInvalid(signRaw(header({ crit: ['b64'], b64: false }), idp.claims(), rsa.privateKey), 'b64');
    await expectInvalid(signRaw(header({ crit: [] }), idp.claims(), rsa.privateKey), 'empty crit');
  });
});

describe('token type', () => {
  test('wrong or missing typ', async () => {
    for (const typ of ['JWT', 'jwt', 'id+jwt', 'at+jwt ', 'application/jwt', 'logout+jwt', 42, undefined]) {
      await expectInvalid(signRaw(header({ typ }), idp.claims(), rsa.privateKey), `typ ${String(typ)}`);
    }
  });

  test('typ is a media type: application/at+jwt and AT+JWT pass', async () => {
    for (const typ of ['application/at+jwt', 'AT+JWT']) {
      assert.equal((await call(signRaw(header({ typ }), idp.claims(), rsa.privateKey))).statusCode, 200, typ);
    }
  });

  test('an ID token used as an access token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const idToken: JWTPayload = { iss: idp.issuer, sub: 'alice', aud: 'spa', azp: 'spa', nonce: 'n', at_hash: 'x', iat: now, exp: now + 300, auth_time: now };
    await expectInvalid(signRaw(header({ typ: 'JWT' }), idToken, rsa.privateKey), 'ID token typ JWT');
    await expectInvalid(signRaw({ alg: 'RS256', kid: 'rsa-1' }, idToken, rsa.privateKey), 'ID token without typ');
    // Even where typ JWT is allowed (Auth0), the audience gives it away.
    const auth0 = await startApi(idp, { AUTH_TOKEN_TYPES: 'at+jwt,JWT' });
    try {
      const res = await auth0.app.inject({ url: '/api/UserOne', headers: bearer(signRaw(header({ typ: 'JWT' }), idToken, rsa.privateKey)) });
      assert.equal(res.statusCode, 401);
      assert.equal(res.headers['www-authenticate'], INVALID);
    } finally {
      await auth0.dispose();
    }
  });
});

describe('time', () => {
  const now = () => Math.floor(Date.now() / 1000);

  test('expired, nbf and iat in the future, no exp', async () => {
    await expectInvalid(await idp.sign(idp.claims({ exp: now() - 60 })), 'expired');
    await expectInvalid(await idp.sign(idp.claims({ exp: now() - 6 })), 'expired beyond the 5 s tolerance');
    await expectInvalid(await idp.sign(idp.claims({ nbf: now() + 60 })), 'nbf in the future');
    await expectInvalid(await idp.sign(idp.claims({ iat: now() + 60 })), 'iat in the future');
    const { exp: _exp, ...noExp } = idp.claims();
    await expectInvalid(await idp.sign(noExp), 'no exp');
    for (const exp of ['9999999999', null, true, [now() + 60], 1e400]) {
      await expectInvalid(signRaw(header(), { ...idp.claims(), exp }, rsa.privateKey), `exp ${JSON.stringify(exp)}`);
    }
    await expectInvalid(signRaw(header(), { ...idp.claims(), nbf: 'now' }, rsa.privateKey), 'nbf string');
  });

  test('the documented clock tolerance (5 s) is honoured', async () => {
    assert.equal((await call(await idp.sign(idp.claims({ exp: now() - 2 })))).statusCode, 200, 'expired 2 s ago');
    assert.equal((await call(await idp.sign(idp.claims({ nbf: now() + 2, iat: now() + 2 })))).statusCode, 200, 'nbf/iat 2 s ahead');
  });
});

describe('issuer and audience', () => {
  test('issuer variants', async () => {
    const u = new URL(idp.issuer);
    const variants = [`${idp.issuer}/`, idp.issuer.toUpperCase(), `https://${u.host}`, `http://localhost:${u.port}`, `${idp.issuer}/tenant`, `${idp.issuer}#`, ` ${idp.issuer}`, '', undefined, [idp.issuer]];
    for (const iss of variants) {
      await expectInvalid(signRaw(header(), { ...idp.claims(), iss }, rsa.privateKey), `iss ${JSON.stringify(iss)}`);
    }
  });

  test('audience variants', async () => {
    const variants = [`${AUDIENCE}/`, AUDIENCE.toUpperCase(), 'https://other-api', ['https://other-api'], [], undefined, 42, [42], [AUDIENCE, 42], { aud: AUDIENCE }, ''];
    for (const aud of variants) {
      await expectInvalid(signRaw(header(), { ...idp.claims(), aud }, rsa.privateKey), `aud ${JSON.stringify(aud)}`);
    }
  });

  test('audience as a string, or an array containing ours among others (Auth0), passes', async () => {
    assert.equal((await call(await idp.sign(idp.claims({ aud: AUDIENCE })))).statusCode, 200);
    assert.equal((await call(await idp.sign(idp.claims({ aud: [AUDIENCE, `${idp.issuer}/userinfo`] })))).statusCode, 200);
  });
});

describe('authorization claims', () => {
  test('wrong azp: 403 without a scope challenge', async () => {
    for (const claims of [{ azp: 'swagger', client_id: 'swagger' }, { azp: 'evil', client_id: undefined }, { azp: undefined, client_id: undefined }, { azp: 'SPA', client_id: 'SPA' }]) {
      const res = await call(signRaw(header(), { ...idp.claims(), ...claims }, rsa.privateKey));
      assert.equal(res.statusCode, 403, JSON.stringify(claims));
      assert.equal(res.headers['www-authenticate'], undefined);
      assert.equal(res.json().title, 'Forbidden');
    }
  });

  test('client_id alone satisfies the client requirement; azp and client_id that disagree are invalid', async () => {
    assert.equal((await call(signRaw(header(), { ...idp.claims(), azp: undefined }, rsa.privateKey))).statusCode, 200);
    await expectInvalid(signRaw(header(), { ...idp.claims(), azp: 'spa', client_id: 'evil' }, rsa.privateKey), 'azp != client_id');
  });

  test('missing scope (absent, empty, other, a prefix or superstring): 403 insufficient_scope', async () => {
    for (const scope of [undefined, '', 'openid profile', `${SCOPE}-admin`, SCOPE.slice(0, -1), SCOPE.toUpperCase()]) {
      const res = await call(signRaw(header(), { ...idp.claims(), scope }, rsa.privateKey));
      assert.equal(res.statusCode, 403, String(scope));
      assert.equal(res.headers['www-authenticate'], INSUFFICIENT);
      assert.equal(res.json().scope, SCOPE);
    }
  });

  test('the scope among others passes', async () => {
    assert.equal((await call(await idp.sign(idp.claims({ scope: `openid ${SCOPE} offline_access` })))).statusCode, 200);
  });

  test('scope as an array (not RFC 9068) is an invalid token', async () => {
    await expectInvalid(signRaw(header(), { ...idp.claims(), scope: [SCOPE] }, rsa.privateKey), 'scope array');
  });

  test('no sub, or a sub that is not a string', async () => {
    for (const sub of [undefined, '', 42, { id: 'alice' }]) {
      await expectInvalid(signRaw(header(), { ...idp.claims(), sub }, rsa.privateKey), `sub ${JSON.stringify(sub)}`);
    }
  });
});

describe('where the token comes from', () => {
  test('a token in the query string is never read', async () => {
    const token = await idp.sign();
    const res = await call(undefined, {}, `/api/UserOne?access_token=${token}`);
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer');
    const both = await call(token, {}, `/api/UserOne?access_token=${token}`);
    assert.equal(both.statusCode, 400);
    assert.match(String(both.headers['www-authenticate']), /^Bearer error="invalid_request"/);
  });

  test('a token in the body is never read', async () => {
    const token = await idp.sign();
    const res = await api.app.inject({ method: 'POST', url: '/api/notes', payload: { text: 'x', access_token: token } });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer');
  });

  test('other schemes and malformed credentials', async () => {
    const token = await idp.sign();
    for (const value of [`Basic ${Buffer.from('a:b').toString('base64')}`, `Token ${token}`, `Bearertoken`]) {
      const res = await call(undefined, { authorization: value });
      assert.equal(res.statusCode, 401, value.slice(0, 12));
      assert.equal(res.headers['www-authenticate'], 'Bearer');
    }
    for (const value of ['Bearer', 'Bearer ', `Bearer  ${token}`, `Bearer ${token} extra`, `Bearer\t${token}`]) {
      const res = await call(undefined, { authorization: value });
      assert.equal(res.statusCode, 401, JSON.stringify(value.slice(0, 12)));
      assert.equal(res.headers['www-authenticate'], INVALID);
    }
    assert.equal((await call(undefined, { authorization: `bearer ${token}` })).statusCode, 200, 'the scheme is case-insensitive');
  });
});
