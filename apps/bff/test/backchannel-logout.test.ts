// The logout-token check on its own: keys made here, a manual clock, every claim the
// specification requires tried missing or wrong. Each refusal names what was wrong.
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTPayload, type JWK } from 'jose';
import { BACKCHANNEL_LOGOUT_EVENT, createLogoutTokenVerifier, InvalidLogoutTokenError, type LogoutTokenPolicy, type ReplayGuard } from '../src/backchannel-logout.ts';

const ISSUER = 'http://localhost:4400';
const POLICY: LogoutTokenPolicy = { issuer: ISSUER, clientId: 'bff', algorithms: ['RS256', 'ES256'], maxAgeSeconds: 120, clockToleranceSeconds: 5 };
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

const idpKeys = await generateKeyPair('RS256');
const strangerKeys = await generateKeyPair('RS256');
const idpJwk: JWK = { ...(await exportJWK(idpKeys.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };

/** Replay memory of the test, with the expiry the verifier asked for. */
class MemoryReplayGuard implements ReplayGuard {
  readonly seen = new Map<string, number>();
  readonly clock: () => number;
  constructor(clock: () => number) {
    this.clock = clock;
  }
  async firstUse(id: string, expiresAt: number): Promise<boolean> {
    const until = this.seen.get(id);
    if (until !== undefined && until > this.clock()) return false;
    this.seen.set(id, expiresAt);
    return true;
  }
}

let now: number;
let replay: MemoryReplayGuard;
let verify: ReturnType<typeof createLogoutTokenVerifier>;
let jtiCounter = 0;

beforeEach(() => {
  now = T0;
  replay = new MemoryReplayGuard(() => now);
  verify = createLogoutTokenVerifier({ policy: POLICY, keys: createLocalJWKSet({ keys: [idpJwk] }), replay, now: () => now });
});

interface TokenOptions {
  claims?: JWTPayload;
  drop?: string[];
  typ?: string | null;
  key?: typeof idpKeys.privateKey;
  kid?: string;
}

/** A logout token as the IdP makes one, changed as asked. */
async function logoutToken(o: TokenOptions = {}): Promise<string> {
  const iat = Math.floor(now / 1000);
  const claims: JWTPayload = {
    iss: ISSUER, aud: 'bff', iat, exp: iat + 120, jti: `jti-${++jtiCounter}`, sub: 'auth0|alice', sid: 'idp-session-1',
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    ...o.claims,
  };
  for (const name of o.drop ?? []) delete claims[name];
  const header: Record<string, string> = { alg: 'RS256', kid: o.kid ?? 'idp-1' };
  if (o.typ !== null) header['typ'] = o.typ ?? 'logout+jwt';
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(o.key ?? idpKeys.privateKey);
}

async function refused(token: unknown, reason: RegExp): Promise<void> {
  await assert.rejects(verify(token), (err: unknown) => {
    assert.ok(err instanceof InvalidLogoutTokenError, String(err));
    assert.match(err.reason, reason);
    assert.equal(err.error, 'invalid_request');
    return true;
  });
}

describe('a valid logout token', () => {
  test('names the IdP session and the user', async () => {
    assert.deepEqual(await verify(await logoutToken()), { sid: 'idp-session-1', sub: 'auth0|alice' });
  });

  test('with only sub, ends the user', async () => {
    assert.deepEqual(await verify(await logoutToken({ drop: ['sid'] })), { sub: 'auth0|alice' });
  });

  test('with only sid, ends the IdP session', async () => {
    assert.deepEqual(await verify(await logoutToken({ drop: ['sub'] })), { sid: 'idp-session-1' });
  });

  test('aud may be an array naming the client; typ may carry the application/ prefix', async () => {
    assert.ok(await verify(await logoutToken({ claims: { aud: ['other', 'bff'] }, typ: 'application/logout+jwt' })));
  });

  test('issued a little in the future (within the clock tolerance) is accepted', async () => {
    assert.ok(await verify(await logoutToken({ claims: { iat: Math.floor(now / 1000) + 4 } })));
  });

  test('its jti is remembered until the token could no longer be accepted', async () => {
    await verify(await logoutToken({ claims: { jti: 'remembered' } }));
    const until = replay.seen.get(`${ISSUER} remembered`);
    assert.equal(until, T0 + (120 + 5) * 1000);
  });
});

describe('refused logout tokens', () => {
  test('signed by another key under the IdP kid', async () => {
    await refused(await logoutToken({ key: strangerKeys.privateKey }), /signature/);
  });

  test('signed by a key the IdP does not publish', async () => {
    await refused(await logoutToken({ key: strangerKeys.privateKey, kid: 'stranger' }), /no key/);
  });

  test('for another audience', async () => {
    await refused(await logoutToken({ claims: { aud: 'spa' } }), /^aud/);
  });

  test('from another issuer', async () => {
    await refused(await logoutToken({ claims: { iss: 'https://evil.example' } }), /^iss/);
  });

  test('an ID token (typ JWT, or no typ)', async () => {
    await refused(await logoutToken({ typ: 'JWT' }), /^typ/);
    await refused(await logoutToken({ typ: null }), /^typ/);
  });

  test('with a nonce', async () => {
    await refused(await logoutToken({ claims: { nonce: 'n-1' } }), /nonce/);
  });

  test('without the events claim, or without the back-channel event in it', async () => {
    await refused(await logoutToken({ drop: ['events'] }), /^events/);
    await refused(await logoutToken({ claims: { events: { 'http://schemas.openid.net/event/other': {} } } }), /back-channel logout event/);
    await refused(await logoutToken({ claims: { events: { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' } } }), /back-channel logout event/);
    await refused(await logoutToken({ claims: { events: [BACKCHANNEL_LOGOUT_EVENT] } }), /events is not an object/);
  });

  test('with neither sid nor sub', async () => {
    await refused(await logoutToken({ drop: ['sid', 'sub'] }), /neither sid nor sub/);
  });

  test('with a sid that is not a string', async () => {
    await refused(await logoutToken({ claims: { sid: 42 as unknown as string } }), /sid/);
  });

  test('without jti, iat or exp', async () => {
    await refused(await logoutToken({ drop: ['jti'] }), /^jti/);
    await refused(await logoutToken({ drop: ['iat'] }), /^iat/);
    await refused(await logoutToken({ drop: ['exp'] }), /^exp/);
  });

  test('replayed: the same jti a second time', async () => {
    const token = await logoutToken();
    await verify(token);
    await refused(token, /jti already used/);
    // Another token with the same jti (re-signed) is a replay too.
    await refused(await logoutToken({ claims: { jti: `jti-${jtiCounter}` } }), /jti already used/);
  });

  test('issued too long ago, even when its exp is far away', async () => {
    const token = await logoutToken({ claims: { exp: Math.floor(now / 1000) + 3600 } });
    now += (120 + 6) * 1000;
    await refused(token, /^iat/);
  });

  test('expired', async () => {
    const token = await logoutToken({ claims: { exp: Math.floor(now / 1000) + 10 } });
    now += 16 * 1000;
    await refused(token, /^exp/);
  });

  test('issued in the future beyond the tolerance', async () => {
    await refused(await logoutToken({ claims: { iat: Math.floor(now / 1000) + 60, exp: Math.floor(now / 1000) + 180 } }), /^iat/);
  });

  test('with an algorithm outside the policy (HS256 with the public key as secret)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(idpJwk));
    const token = await new SignJWT({ iss: ISSUER, aud: 'bff', iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 60, jti: 'hs', sub: 'x', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
      .setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt', kid: 'idp-1' }).sign(secret);
    await assert.rejects(verify(token), InvalidLogoutTokenError);
  });

  test('missing or not a JWT at all', async () => {
    await refused(undefined, /missing/);
    await refused('', /missing/);
    await assert.rejects(verify('not.a.jwt'), InvalidLogoutTokenError);
  });

  test('a refused token does not use up its jti', async () => {
    await refused(await logoutToken({ claims: { jti: 'kept', nonce: 'n' } }), /nonce/);
    assert.ok(await verify(await logoutToken({ claims: { jti: 'kept' } })));
  });
});
