// Configurable lifetimes, the `resource` parameter, response headers, and the audit trail.
// In process (tests/support/idp-in-process.ts): nothing here needs a crash or a second instance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { withIdpInProcess } from '../../../tests/support/idp-in-process.ts';
import { ManualClock } from '../../../tests/support/manual-clock.ts';
import {
  API_AUDIENCE, SPA_REDIRECT_URI, authorizationRequest, authorizeWithLogin, decodeJwt, followIdpRedirects, login, rpConfig, submitLogin, tokenRequest, userAgent,
} from '../../../tests/support/oidc-rp.ts';

test('access-token lifetime is configurable; RFC 8707 resource selects the API like audience', async () => {
  await withIdpInProcess({ IDP_ACCESS_TOKEN_TTL: '60' }, {}, async (idp) => {
    const spa = await rpConfig(idp.issuer, 'spa');
    const req = await authorizationRequest(spa, { audience: '', resource: API_AUDIENCE });
    const url = new URL(req.url);
    url.searchParams.delete('audience');
    const callback = await authorizeWithLogin(userAgent(), spa, { ...req, url }, 'alice', 'demo-alice');
    const res = await tokenRequest(idp.issuer, { grant_type: 'authorization_code', client_id: 'spa', code: callback.searchParams.get('code')!, redirect_uri: SPA_REDIRECT_URI, code_verifier: req.verifier });
    assert.equal(res.status, 200);
    const at = decodeJwt(String(res.body['access_token'])).payload;
    assert.deepEqual(at['aud'], [API_AUDIENCE, `${idp.issuer}/userinfo`]);
    assert.equal(Number(at['exp']) - Number(at['iat']), 60);
    assert.equal(res.body['expires_in'], 60);
  });
});

test('an unknown audience is refused', async () => {
  await withIdpInProcess({}, {}, async (idp) => {
    const spa = await rpConfig(idp.issuer, 'spa');
    const { url } = await authorizationRequest(spa, { audience: 'https://other-api.example' });
    const location = new URL((await userAgent().request(url)).headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'invalid_target');
  });
});

// Lifetimes are driven by a manual clock passed into the IdP: its stores judge expiry by it, and
// the refresh-token lifetime is computed from it. oidc-provider stamps iat/iiat/exp with its own
// Date.now, which stays real; a token expires here because the store no longer finds it, which is
// how the running IdP expires it too (the store's expiry is always the earlier one). Real time
// passing during the test (iiat a few seconds after the clock's start) is absorbed by margins far
// larger than it and far smaller than the lifetimes.
test('an unused refresh token dies after the idle lifetime', async () => {
  const clock = new ManualClock();
  await withIdpInProcess({ IDP_REFRESH_TOKEN_IDLE_TTL: '60' }, { clock }, async (idp) => {
    const spa = await rpConfig(idp.issuer, 'spa');
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    clock.advanceSeconds(59);
    const used = await oidc.refreshTokenGrant(spa, tokens.refresh_token!);
    clock.advanceSeconds(61);
    const late = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: used.refresh_token! });
    assert.equal(late.status, 400);
    assert.equal(late.body['error'], 'invalid_grant');
  });
});

test('rotation never extends a refresh token past the absolute lifetime', async () => {
  const clock = new ManualClock();
  await withIdpInProcess({ IDP_REFRESH_TOKEN_ABSOLUTE_TTL: '100', IDP_REFRESH_TOKEN_IDLE_TTL: '60' }, { clock }, async (idp) => {
    const spa = await rpConfig(idp.issuer, 'spa');
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    clock.advanceSeconds(50);
    const second = await oidc.refreshTokenGrant(spa, tokens.refresh_token!);
    clock.advanceSeconds(40);
    const third = await oidc.refreshTokenGrant(spa, second.refresh_token!);
    clock.advanceSeconds(30);
    // 30 s after the last rotation (idle 60 s), but 120 s after the login (absolute 100 s).
    const late = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: third.refresh_token! });
    assert.equal(late.status, 400);
    assert.equal(late.body['error'], 'invalid_grant');
  });
});

test('the audit trail records each event and never a token, code or password', async () => {
  await withIdpInProcess({}, {}, async (idp) => {
    const spa = await rpConfig(idp.issuer, 'spa');
    const { tokens, callback } = await login(spa, 'alice', 'demo-alice');
    const tokenRes = await fetch(`${idp.issuer}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token! }).toString(),
    });
    assert.match(tokenRes.headers.get('cache-control') ?? '', /no-store/);
    const rotated = (await tokenRes.json()) as { refresh_token: string; access_token: string };
    await oidc.refreshTokenGrant(spa, rotated.refresh_token);
    await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token! }); // reuse after the successor was used
    const second = await login(spa, 'alice', 'demo-alice');
    await oidc.tokenRevocation(spa, second.tokens.refresh_token!);
    const ua = userAgent();
    const failed = await authorizeWithLogin(ua, spa, await authorizationRequest(spa), 'alice', 'wrong-password').catch(() => undefined);
    assert.equal(failed, undefined);

    const events = idp.logs.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l).event as string);
    for (const e of ['login_success', 'login_failure', 'tokens_issued', 'token_refreshed', 'replay_detected', 'token_revoked']) {
      assert.ok(events.includes(e), `missing audit event ${e}`);
    }
    const secrets = [tokens.access_token, tokens.refresh_token!, tokens.id_token!, rotated.refresh_token, rotated.access_token,
      second.tokens.refresh_token!, callback.searchParams.get('code')!, 'demo-alice', 'wrong-password', 'dev-api-secret-change-me'];
    const all = idp.logs.join('\n');
    for (const secret of secrets) assert.ok(!all.includes(secret), 'a secret value reached the log');
  });
});

test('a failed or throttled login logs the username only when it is registered: a password typed as the username never reaches the log', async () => {
  // One failure per username and address before 429, no slowing down: both log lines in two tries.
  await withIdpInProcess({ IDP_LOGIN_MAX_FAILURES_PER_USER_AND_IP: '1', IDP_LOGIN_SLOW_AFTER: '10000' }, {}, async (idp) => {
    const spa = await rpConfig(idp.issuer, 'spa');
    const attempt = async (username: string, password: string): Promise<number> => {
      const ua = userAgent();
      const page = await followIdpRedirects(ua, idp.issuer, (await authorizationRequest(spa)).url);
      return (await submitLogin(ua, idp.issuer, page, username, password)).status;
    };
    // bob's password in the username field, then alice's, then a registered name in another case.
    assert.deepEqual([await attempt('demo-bob', 'x'), await attempt('demo-bob', 'y')], [401, 429]);
    assert.equal(await attempt('demo-alice', 'demo-alice'), 401);
    assert.deepEqual([await attempt(' ALICE', 'wrong-1'), await attempt('alice', 'wrong-2')], [401, 429]);

    const lines = idp.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['event'] === 'login_failure' || l['event'] === 'login_throttled');
    assert.deepEqual(lines.map((l) => [l['event'], l['username'], l['knownUser']]), [
      ['login_failure', null, false],
      ['login_throttled', null, false],
      ['login_failure', null, false],
      ['login_failure', 'alice', undefined],
      ['login_throttled', 'alice', undefined],
    ]);
    const all = idp.logs.join('\n');
    for (const secret of ['demo-bob', 'demo-alice', 'wrong-1', 'wrong-2']) assert.ok(!all.includes(secret), `${secret} reached the log`);
  });
});
