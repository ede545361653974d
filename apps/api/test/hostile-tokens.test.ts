// The hostile token corpus: every forged, malformed, misdirected or stale token is refused with
// the right status, WWW-Authenticate and refusal reason, and nothing makes the API fetch a key from
// elsewhere. Tokens that would pass but for one check are signed with the REAL key, so each case
// fails if its check is deleted. Every token of the corpus is also run through jose (differential):
// both must agree, except where this API is stricter on purpose (STRICTER_THAN_JOSE, listed).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { CompactEncrypt, createLocalJWKSet, exportSPKI, generateKeyPair, jwtVerify, type JWTPayload } from 'jose';
import type { RefusalReason } from '../src/refusal-reason.ts';
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
/** Refusal reasons reported by the API since the last call() began. */
const reasons: RefusalReason[] = [];
/**
 * The clock of the API and of the jose comparison: the real one, except in the tests of time,
 * which stop it so that a token's times are judged at the instant they were written, however long
 * signing and checking take on this machine.
 */
let stoppedAt: number | undefined;
const clockMs = (): number => stoppedAt ?? Date.now();

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
  api = await startApi(idp, { AUTH_ALGORITHMS: 'RS256,ES256', AUTH_JWKS_COOLDOWN: '3600' }, { onRefusal: (reason) => reasons.push(reason), now: clockMs });
});

after(async () => {
  await api.dispose();
  await idp.close();
  attackerServer.closeAllConnections();
  await new Promise<void>((r) => attackerServer.close(() => r()));
});

async function call(token: string | undefined, headers: Record<string, string | string[]> = {}, url = '/api/UserOne') {
  reasons.length = 0;
  return api.app.inject({ method: 'GET', url, headers: { ...(token === undefined ? {} : bearer(token)), ...headers } });
}

function expectReason(reason: RefusalReason, why: string): void {
  assert.deepEqual(reasons, [reason], `${why}: refusal reason`);
}

async function expectInvalid(token: string, reason: RefusalReason, why: string): Promise<void> {
  const res = await call(token);
  assert.equal(res.statusCode, 401, `${why}: status`);
  assert.equal(res.headers['www-authenticate'], INVALID, `${why}: WWW-Authenticate`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.deepEqual(res.json(), { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'The access token is invalid.', error: 'invalid_token' });
  expectReason(reason, why);
  await expectJoseAgrees(token, false, why);
}

/** A token whose signature and claims are valid: 200, or 403 when only the policy refuses it. */
async function expectValid(token: string, why: string, status = 200, reason?: RefusalReason): Promise<void> {
  const res = await call(token);
  assert.equal(res.statusCode, status, `${why}: status`);
  assert.deepEqual(reasons, reason === undefined ? [] : [reason], `${why}: refusal reason`);
  await expectJoseAgrees(token, true, why);
}

// ---- The differential: jose, configured as this API is, must give the same verdict. ----

const decodePart = (part: string | undefined): unknown => {
  try {
    return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Where this API refuses what jose accepts, on purpose (see apps/api/README.md): each rule names
 * the case. Anything else jose and the API must judge alike.
 */
const STRICTER_THAN_JOSE: Record<string, (token: string, header: Record<string, unknown>, claims: Record<string, unknown>) => boolean> = {
  'a token longer than AUTH_MAX_TOKEN_LENGTH': (token) => token.length > 4096,
  'key references and extensions in the header (jose ignores jku/x5u/x5c/jwk)': (_t, h) => ['jku', 'x5u', 'x5c', 'jwk', 'crit', 'enc', 'zip', 'cty', 'b64', 'epk', 'p2s'].some((m) => Object.hasOwn(h, m)),
  'an empty or overlong kid (jose treats kid "" as no kid)': (_t, h) => typeof h.kid === 'string' && (h.kid.length === 0 || h.kid.length > 256),
  'a sub that is not a non-empty string of whole Unicode characters': (_t, _h, c) => typeof c.sub !== 'string' || c.sub === '' || !c.sub.isWellFormed(),
  'aud entries that are not strings': (_t, _h, c) => Array.isArray(c.aud) && c.aud.some((a) => typeof a !== 'string'),
  'scope, azp, client_id or jti not strings': (_t, _h, c) => ['scope', 'azp', 'client_id', 'jti'].some((n) => c[n] !== undefined && typeof c[n] !== 'string'),
  'azp and client_id naming different clients': (_t, _h, c) => typeof c.azp === 'string' && typeof c.client_id === 'string' && c.azp !== c.client_id,
  'a sender-constrained token (cnf) without proof of possession': (_t, _h, c) => c.cnf !== undefined,
};

let joseCompared = 0;
async function expectJoseAgrees(token: string, apiAccepted: boolean, why: string): Promise<void> {
  let joseAccepted: boolean;
  try {
    await jwtVerify(token, createLocalJWKSet({ keys: idp.published.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' })) }), {
      issuer: idp.issuer,
      audience: AUDIENCE,
      algorithms: ['RS256', 'ES256'],
      typ: 'at+jwt',
      // RFC 9068 §2.2, as the API requires of a typ at+jwt token.
      requiredClaims: ['iss', 'aud', 'exp', 'sub', 'client_id', 'iat', 'jti'],
      clockTolerance: 5,
      // Without it jose lets an iat in the future pass (the API refuses it).
      maxTokenAge: '3650 days',
      currentDate: new Date(clockMs()),
    });
    joseAccepted = true;
  } catch {
    joseAccepted = false;
  }
  const [h, p] = token.split('.');
  const header = decodePart(h);
  const claims = decodePart(p);
  const stricter = joseAccepted && isObject(header) && isObject(claims)
    ? Object.entries(STRICTER_THAN_JOSE).filter(([, refuses]) => refuses(token, header, claims)).map(([name]) => name)
    : [];
  const expected = joseAccepted && stricter.length === 0;
  assert.equal(apiAccepted, expected, `${why}: the API ${apiAccepted ? 'accepts' : 'refuses'}, jose ${joseAccepted ? 'accepts' : 'refuses'}${stricter.length ? ` (stricter here: ${stricter.join('; ')})` : ''}`);
  joseCompared++;
}

after(() => {
  // The differential ran over the whole corpus, not over a handful of tokens.
  assert.ok(joseCompared >= 120, `only ${joseCompared} tokens compared with jose`);
});

const header = (extra: Record<string, unknown> = {}) => ({ alg: 'RS256', typ: 'at+jwt', kid: 'rsa-1', ...extra });
/** Signed by the issuer's real key: only the one thing under test is wrong. */
const real = (h: Record<string, unknown>, claims: unknown = idp.claims()) => signRaw(h, claims, rsa.privateKey);

test('the control case: a valid token passes', async () => {
  const res = await call(await idp.sign());
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), ['user one data']);
  await expectValid(real(header()), 'signed by hand with the real key');
});

describe('algorithm confusion', () => {
  test('alg none, in any case, with or without a signature', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const unsigned = `${b64u({ alg, typ: 'at+jwt' })}.${b64u(idp.claims())}`;
      await expectInvalid(`${unsigned}.`, 'token_malformed', `${alg} empty signature`);
      await expectInvalid(unsigned, 'token_malformed', `${alg} two segments`);
      await expectInvalid(`${unsigned}.${b64u('sig')}`, 'alg_refused', `${alg} junk signature`);
    }
  });

  test('HS256 signed with the public key (PEM, JWK JSON, modulus)', async () => {
    const pub = await (await import('jose')).importJWK(rsa.publicJwk, 'RS256');
    const pem = await exportSPKI(pub as Parameters<typeof exportSPKI>[0]);
    for (const secret of [pem, JSON.stringify(rsa.publicJwk), Buffer.from(String(rsa.publicJwk.n), 'base64url')]) {
      await expectInvalid(signHmac(header({ alg: 'HS256' }), idp.claims(), secret), 'alg_refused', 'HS256');
    }
  });

  test('a token declaring an algorithm its key is not for (ES256 header on the RSA key, PS256 not allowed)', async () => {
    await expectInvalid(real(header({ alg: 'ES256' })), 'key_unknown', 'ES256 header, RSA kid');
    await expectInvalid(real(header({ alg: 'PS256' })), 'alg_refused', 'PS256 not in the allowlist');
  });
});

describe('keys from anywhere but the JWKS', () => {
  test('an embedded jwk (the real key\'s and the attacker\'s): refused even when the real key signed', async () => {
    for (const kid of ['rsa-1', 'attacker']) {
      await expectInvalid(real(header({ kid, jwk: { ...rsa.publicJwk, kid } })), 'header_member_refused', `jwk ${kid}, real key`);
      await expectInvalid(signRaw(header({ kid, jwk: { ...attacker.publicJwk, kid } }), idp.claims(), attacker.privateKey), 'header_member_refused', `jwk ${kid}, attacker key`);
    }
  });

  test('jku, x5u and x5c pointing elsewhere: refused even when the real key signed, and nothing is fetched', async () => {
    const before = idp.jwksFetches;
    const x5c = ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'];
    for (const extra of [{ jku: `${attackerUrl}/jwks` }, { x5u: `${attackerUrl}/cert.pem` }, { x5c }, { jku: `${attackerUrl}/jwks`, kid: 'attacker' }]) {
      await expectInvalid(real(header(extra)), 'header_member_refused', `${JSON.stringify(Object.keys(extra))}, real key`);
      await expectInvalid(signRaw(header(extra), idp.claims(), attacker.privateKey), 'header_member_refused', `${JSON.stringify(Object.keys(extra))}, attacker key`);
    }
    assert.equal(attackerHits, 0, 'the API fetched from a URL in a token header');
    assert.equal(idp.jwksFetches, before, 'no JWKS refetch for these');
  });

  test('kid injection strings are only ever a map key (signed with the real key)', async () => {
    const unknown = ['../../../../../../dev/null', "' OR '1'='1", 'rsa-1\' --', 'rsa-1\u0000', '{"$ne":null}', `${attackerUrl}/jwks`, 'RSA-1', ' rsa-1'];
    for (const kid of unknown) await expectInvalid(real(header({ kid })), 'key_unknown', `kid ${JSON.stringify(kid)}`);
    for (const kid of ['a'.repeat(300), '', 42, null, ['rsa-1'], { kid: 'rsa-1' }]) {
      await expectInvalid(real(header({ kid })), 'kid_malformed', `kid ${JSON.stringify(kid).slice(0, 40)}`);
    }
    assert.equal(attackerHits, 0);
  });
});

describe('signatures', () => {
  test('a zero ECDSA signature (r = s = 0) and an all-ones one', async () => {
    const input = `${b64u(header({ alg: 'ES256', kid: 'ec-1' }))}.${b64u(idp.claims())}`;
    await expectInvalid(`${input}.${Buffer.alloc(64).toString('base64url')}`, 'signature_invalid', 'zero signature');
    await expectInvalid(`${input}.${Buffer.alloc(64, 0xff).toString('base64url')}`, 'signature_invalid', 'ones signature');
    await expectInvalid(`${input}.${Buffer.alloc(8).toString('base64url')}`, 'signature_invalid', 'short ECDSA signature');
    // The control: the same key, properly signed, passes.
    await expectValid(await idp.sign(undefined, { key: ec }), 'ES256, properly signed');
  });

  test('stripped, swapped, truncated and bit-flipped signatures', async () => {
    const a = await idp.sign(idp.claims({ sub: 'alice' }));
    const b = await idp.sign(idp.claims({ sub: 'mallory' }));
    const [ah, ap, as] = a.split('.');
    const [, bp] = b.split('.');
    await expectInvalid(`${ah}.${ap}.`, 'token_malformed', 'stripped');
    await expectInvalid(`${ah}.${bp}.${as}`, 'signature_invalid', 'payload swapped under a signature');
    await expectInvalid(`${ah}.${ap}.${as!.slice(0, -10)}`, 'signature_invalid', 'truncated');
    const flipped = Buffer.from(as!, 'base64url');
    flipped[10]! ^= 1;
    await expectInvalid(`${ah}.${ap}.${flipped.toString('base64url')}`, 'signature_invalid', 'bit flipped');
    const otherSig = (await idp.sign()).split('.')[2];
    await expectInvalid(`${ah}.${ap}.${otherSig}`, 'signature_invalid', 'signature of another token');
  });

  test('the signature of a token in the verified-token cache, under another payload or header', async () => {
    const a = await idp.sign(idp.claims({ sub: 'alice' }));
    const b = await idp.sign(idp.claims({ sub: 'mallory' }));
    await expectValid(a, 'verified, then cached');
    await expectValid(a, 'served from the cache');
    const [ah, ap, as] = a.split('.');
    const [bh, bp] = b.split('.');
    // The cache finds an entry by the signature's end: only the whole text may make a hit.
    await expectInvalid(`${ah}.${bp}.${as}`, 'signature_invalid', 'another payload under a cached signature');
    await expectInvalid(`${bh}.${ap}x.${as}`, 'signature_invalid', 'payload one character longer under a cached signature');
    await expectInvalid(`${b64u(header({ kid: 'rsa-2' }))}.${ap}.${as}`, 'key_unknown', 'another header under a cached signature');
  });
});

describe('malformed compact serialisation', () => {
  test('wrong segment counts', async () => {
    const good = await idp.sign();
    const [h, p, s] = good.split('.');
    for (const t of [`${h}.${p}`, `${h}.${p}.${s}.${s}`, `${h}..${s}`, `.${p}.${s}`, `${good}.`, `.${good}`, `${h}.${p}.${s}.x.y`]) {
      await expectInvalid(t, 'token_malformed', `segments ${t.split('.').length}`);
    }
    // Without a dot it is a reference token to AUTH_TOKEN_FORMAT=auto, and the issuer knows none such.
    await expectInvalid(h!, 'token_inactive', 'one segment');
  });

  test('text that is not base64url', async () => {
    const good = await idp.sign();
    const [h, p, s] = good.split('.');
    await expectInvalid(`${h}.${p}.${s!.slice(0, 20)}+/${s!.slice(22)}`, 'token_malformed', 'standard base64 in signature');
    await expectInvalid(`${h}=.${p}.${s}`, 'token_malformed', 'padding');
    await expectInvalid(`${h!.slice(0, -1)}~.${p}.${s}`, 'token_malformed', 'tilde');
    await expectInvalid(`${h}.${p}a.${s}`, 'signature_invalid', 'length 1 mod 4 (the signature no longer matches)');
    await expectInvalid(real(header(), 'a'), 'token_malformed', 'length 1 mod 4 under a valid signature');
    const res = await call(undefined, { authorization: `Bearer ${h}.${p}.$$$` });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], INVALID);
    expectReason('token_malformed', '$ in the signature');
  });

  test('header or payload that is not a JSON object', async () => {
    const claims = b64u(idp.claims());
    for (const h of ['"RS256"', '[{"alg":"RS256"}]', 'null', '42', '{"alg":"RS256"', 'not json']) {
      await expectInvalid(`${b64u(h)}.${claims}.${b64u('sig')}`, 'token_malformed', `header ${h}`);
    }
    // Properly signed by the real key, but the payload is not a claims object.
    for (const p of ['[]', '"alice"', 'null', '{"sub":', '12']) {
      await expectInvalid(real(header(), p), 'token_malformed', `payload ${p}`);
    }
  });

  test('an oversized token is refused before parsing', async () => {
    const big = await idp.sign(idp.claims({ padding: 'x'.repeat(5000) }));
    await expectInvalid(big, 'token_too_long', 'oversized');
  });

  test('a nested JWT (cty JWT, payload a token) and a JWE', async () => {
    const inner = await idp.sign();
    await expectInvalid(real(header({ cty: 'JWT' }), inner), 'header_member_refused', 'nested with cty');
    await expectInvalid(real(header(), inner), 'token_malformed', 'nested without cty');
    const { publicKey } = await generateKeyPair('RSA-OAEP-256');
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(idp.claims())))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', typ: 'at+jwt', kid: 'rsa-1' }).encrypt(publicKey);
    assert.equal(jwe.split('.').length, 5);
    await expectInvalid(jwe, 'token_malformed', 'JWE');
    await expectInvalid(real(header({ enc: 'A256GCM' })), 'header_member_refused', 'enc in a JWS header');
  });

  test('crit with an unknown extension, and b64=false', async () => {
    await expectInvalid(real(header({ crit: ['http://example.com/ext'], 'http://example.com/ext': true })), 'header_member_refused', 'crit');
    await expectInvalid(real(header({ crit: ['b64'], b64: false })), 'header_member_refused', 'b64');
    await expectInvalid(real(header({ crit: [] })), 'header_member_refused', 'empty crit');
  });
});

describe('token type', () => {
  test('wrong or missing typ', async () => {
    for (const typ of ['JWT', 'jwt', 'id+jwt', 'at+jwt ', 'application/jwt', 'logout+jwt', 42, undefined]) {
      await expectInvalid(real(header({ typ })), 'typ_refused', `typ ${String(typ)}`);
    }
  });

  test('typ is a media type: application/at+jwt and AT+JWT pass', async () => {
    for (const typ of ['application/at+jwt', 'AT+JWT']) await expectValid(real(header({ typ })), typ);
  });

  test('an ID token used as an access token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const idToken: JWTPayload = { iss: idp.issuer, sub: 'alice', aud: 'spa', azp: 'spa', nonce: 'n', at_hash: 'x', iat: now, exp: now + 300, auth_time: now };
    await expectInvalid(real(header({ typ: 'JWT' }), idToken), 'typ_refused', 'ID token typ JWT');
    await expectInvalid(real({ alg: 'RS256', kid: 'rsa-1' }, idToken), 'typ_refused', 'ID token without typ');
    // Even where typ JWT is allowed (Auth0), the audience gives it away.
    const seen: RefusalReason[] = [];
    const auth0 = await startApi(idp, { AUTH_TOKEN_TYPES: 'at+jwt,JWT' }, { onRefusal: (r) => seen.push(r) });
    try {
      const res = await auth0.app.inject({ url: '/api/UserOne', headers: bearer(real(header({ typ: 'JWT' }), idToken)) });
      assert.equal(res.statusCode, 401);
      assert.equal(res.headers['www-authenticate'], INVALID);
      assert.deepEqual(seen, ['audience_mismatch']);
    } finally {
      await auth0.dispose();
    }
  });
});

describe('time', () => {
  // "Expired 2 s ago" within the 5 s tolerance, checked on a running clock, expired itself once
  // checking took more than 2 s after the token was written (a stalled test process).
  beforeEach(() => { stoppedAt = Date.now(); });
  afterEach(() => { stoppedAt = undefined; });
  const now = () => Math.floor(clockMs() / 1000);
  // The issuer's own claims carry the real iat and exp: on the stopped clock, the test's.
  const claims = (extra: JWTPayload = {}) => idp.claims({ iat: now(), exp: now() + 300, ...extra });

  test('expired, nbf and iat in the future, no exp', async () => {
    await expectInvalid(await idp.sign(claims({ exp: now() - 60 })), 'expired', 'expired');
    await expectInvalid(await idp.sign(claims({ exp: now() - 6 })), 'expired', 'expired beyond the 5 s tolerance');
    await expectInvalid(await idp.sign(claims({ nbf: now() + 60 })), 'not_yet_valid', 'nbf in the future');
    await expectInvalid(await idp.sign(claims({ iat: now() + 60 })), 'issued_in_future', 'iat in the future');
    const { exp: _exp, ...noExp } = claims();
    await expectInvalid(await idp.sign(noExp), 'exp_missing', 'no exp');
    for (const exp of ['9999999999', null, true, [now() + 60], 1e400]) {
      await expectInvalid(real(header(), { ...claims(), exp }), 'claim_malformed', `exp ${JSON.stringify(exp)}`);
    }
    await expectInvalid(real(header(), { ...claims(), nbf: 'now' }), 'claim_malformed', 'nbf string');
    await expectInvalid(real(header(), { ...claims(), iat: '0' }), 'claim_malformed', 'iat string');
  });

  test('the documented clock tolerance (5 s) is honoured', async () => {
    await expectValid(await idp.sign(claims({ exp: now() - 2 })), 'expired 2 s ago');
    await expectValid(await idp.sign(claims({ nbf: now() + 2, iat: now() + 2 })), 'nbf/iat 2 s ahead');
  });
});

describe('issuer and audience', () => {
  test('issuer variants', async () => {
    const u = new URL(idp.issuer);
    const variants = [`${idp.issuer}/`, idp.issuer.toUpperCase(), `https://${u.host}`, `http://localhost:${u.port}`, `${idp.issuer}/tenant`, `${idp.issuer}#`, ` ${idp.issuer}`, '', undefined, [idp.issuer]];
    for (const iss of variants) {
      await expectInvalid(real(header(), { ...idp.claims(), iss }), 'issuer_mismatch', `iss ${JSON.stringify(iss)}`);
    }
  });

  test('audience variants', async () => {
    const variants = [`${AUDIENCE}/`, AUDIENCE.toUpperCase(), 'https://other-api', ['https://other-api'], [], undefined, 42, [42], [AUDIENCE, 42], [AUDIENCE, null], { aud: AUDIENCE }, ''];
    for (const aud of variants) {
      await expectInvalid(real(header(), { ...idp.claims(), aud }), 'audience_mismatch', `aud ${JSON.stringify(aud)}`);
    }
  });

  test('audience as a string, or an array containing ours among others (Auth0), passes', async () => {
    await expectValid(await idp.sign(idp.claims({ aud: AUDIENCE })), 'aud a string');
    await expectValid(await idp.sign(idp.claims({ aud: [AUDIENCE, `${idp.issuer}/userinfo`] })), 'aud with userinfo');
  });
});

describe('authorization claims', () => {
  test('wrong client: 403 without a scope challenge', async () => {
    for (const claims of [{ azp: 'other-spa', client_id: 'other-spa' }, { azp: undefined, client_id: 'evil' }, { azp: 'SPA', client_id: 'SPA' }]) {
      await expectValid(real(header(), { ...idp.claims(), ...claims }), JSON.stringify(claims), 403, 'client_not_allowed');
      const res = await call(real(header(), { ...idp.claims(), ...claims }));
      assert.equal(res.headers['www-authenticate'], undefined);
      assert.equal(res.json().title, 'Forbidden');
    }
  });

  test('client_id alone satisfies the client requirement; azp and client_id that disagree are invalid', async () => {
    await expectValid(real(header(), { ...idp.claims(), azp: undefined }), 'client_id alone');
    await expectInvalid(real(header(), { ...idp.claims(), azp: 'spa', client_id: 'evil' }), 'client_mismatch', 'azp != client_id');
    await expectInvalid(real(header(), { ...idp.claims(), azp: 'evil', client_id: 'spa' }), 'client_mismatch', 'client_id != azp');
  });

  test('RFC 9068 (typ at+jwt) requires client_id, iat and jti', async () => {
    for (const name of ['client_id', 'iat', 'jti']) {
      await expectInvalid(real(header(), { ...idp.claims(), [name]: undefined }), 'claim_missing', `no ${name}`);
    }
  });

  test('missing scope (absent, empty, other, a prefix or superstring): 403 insufficient_scope', async () => {
    for (const scope of [undefined, '', 'openid profile', `${SCOPE}-admin`, SCOPE.slice(0, -1), SCOPE.toUpperCase()]) {
      const token = real(header(), { ...idp.claims(), scope });
      await expectValid(token, String(scope), 403, 'scope_missing');
      const res = await call(token);
      assert.equal(res.headers['www-authenticate'], INSUFFICIENT);
      assert.equal(res.json().scope, SCOPE);
    }
  });

  test('the scope among others passes', async () => {
    await expectValid(await idp.sign(idp.claims({ scope: `openid ${SCOPE} offline_access` })), 'scope among others');
  });

  test('scope as an array (not RFC 9068) is an invalid token', async () => {
    await expectInvalid(real(header(), { ...idp.claims(), scope: [SCOPE] }), 'claim_malformed', 'scope array');
  });

  test('no sub, or a sub that is not a string of whole Unicode characters', async () => {
    await expectInvalid(real(header(), { ...idp.claims(), sub: undefined }), 'claim_missing', 'no sub');
    // A lone surrogate: SQLite, keying the user's notes by sub, would store each as U+FFFD.
    for (const sub of ['', 42, { id: 'alice' }, 'alice\ud800', '\udfffalice', 'a\udc00\ud800']) {
      await expectInvalid(real(header(), { ...idp.claims(), sub }), 'claim_malformed', `sub ${JSON.stringify(sub)}`);
    }
  });

  test('a DPoP-bound token (cnf.jkt) presented as a plain bearer token is refused (RFC 9449 §7.2)', async () => {
    await expectInvalid(real(header(), { ...idp.claims(), cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' } }), 'sender_constrained', 'cnf.jkt');
    await expectInvalid(real(header(), { ...idp.claims(), cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } }), 'sender_constrained', 'cnf x5t#S256');
    await expectInvalid(await idp.sign(idp.claims({ cnf: { jkt: 'x' } })), 'sender_constrained', 'cnf, signed by jose');
  });
});

describe('where the token comes from', () => {
  test('a token in the query string is never read', async () => {
    const token = await idp.sign();
    const res = await call(undefined, {}, `/api/UserOne?access_token=${token}`);
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer');
    expectReason('token_missing', 'query only');
    const both = await call(token, {}, `/api/UserOne?access_token=${token}`);
    assert.equal(both.statusCode, 400);
    assert.match(String(both.headers['www-authenticate']), /^Bearer error="invalid_request"/);
    expectReason('credentials_duplicated', 'header and query');
  });

  test('a token in the body is never read', async () => {
    const token = await idp.sign();
    reasons.length = 0;
    const res = await api.app.inject({ method: 'POST', url: '/api/notes', payload: { text: 'x', access_token: token } });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer');
    expectReason('token_missing', 'body only');
  });

  test('other schemes and malformed credentials', async () => {
    const token = await idp.sign();
    for (const value of [`Basic ${Buffer.from('a:b').toString('base64')}`, `Token ${token}`, `Bearertoken`]) {
      const res = await call(undefined, { authorization: value });
      assert.equal(res.statusCode, 401, value.slice(0, 12));
      assert.equal(res.headers['www-authenticate'], 'Bearer');
      expectReason('token_missing', value.slice(0, 12));
    }
    for (const [value, reason] of [['Bearer', 'credentials_malformed'], ['Bearer ', 'credentials_malformed'], [`Bearer\t${token}`, 'credentials_malformed'], ['Bearer    ', 'credentials_malformed'], [`Bearer  \t${token}`, 'token_malformed'], [`Bearer ${token} extra`, 'token_malformed']] as const) {
      const res = await call(undefined, { authorization: value });
      assert.equal(res.statusCode, 401, JSON.stringify(value.slice(0, 12)));
      assert.equal(res.headers['www-authenticate'], INVALID);
      expectReason(reason, JSON.stringify(value.slice(0, 12)));
    }
    assert.equal((await call(undefined, { authorization: `bearer ${token}` })).statusCode, 200, 'the scheme is case-insensitive');
    // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token.
    for (const spaces of ['  ', '   ']) assert.equal((await call(undefined, { authorization: `Bearer${spaces}${token}` })).statusCode, 200, `${spaces.length} spaces after the scheme`);
  });
});
