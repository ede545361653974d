// Nothing is lost when the IdP is killed: sessions, grants, refresh tokens and signing keys survive.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { Store } from '../src/storage/store.ts';
import { withIdpInProcess } from '../../../tests/support/idp-in-process.ts';
import { startIdp, type IdpProcess } from '../../../tests/support/idp-process.ts';
import { authorizationRequest, decodeJwt, endSessionAsSpa, followIdpRedirects, login, rpConfig, tokenRequest } from '../../../tests/support/oidc-rp.ts';

let idp: IdpProcess;
before(async () => { idp = await startIdp(); });
after(async () => idp.dispose());

test('after SIGKILL and a restart, refresh, SSO session and signing key carry on', async () => {
  const spa = await rpConfig(idp.issuer, 'spa');
  const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
  const kidBefore = decodeJwt(tokens.access_token).header['kid'];
  const rotated = await oidc.refreshTokenGrant(spa, tokens.refresh_token!);

  await idp.restart('SIGKILL');

  const refreshed = await oidc.refreshTokenGrant(spa, rotated.refresh_token!);
  assert.ok(refreshed.access_token);
  assert.equal(decodeJwt(refreshed.access_token).header['kid'], kidBefore, 'the same signing key signs after the restart');
  const jwks = (await (await fetch(`${idp.issuer}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
  assert.deepEqual(jwks.keys.map((k) => k.kid), [kidBefore]);

  // The browser's IdP session survived too: no password needed (a wrong one would fail).
  const again = await login(spa, 'alice', 'wrong-password-never-checked', ua);
  assert.equal(decodeJwt(again.tokens.access_token).payload['sub'], 'auth0|alice');

  // Reuse detection survives as well: the pre-crash token is still known as used.
  const reuse = await fetch(`${idp.issuer}/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token! }).toString(),
  });
  assert.equal(reuse.status, 400);
});

test('the IdP dying right after a logout deleted its session leaves no grant of that session alive: they are revoked first', async () => {
  // The store stands for the process: once the session row is deleted, nothing more happens (the
  // call never returns, as in a process killed there), and a restart reopens the same data.
  let dieAfterSessionDeleted = false;
  let unanswered: Promise<string> | undefined;
  let died!: () => void;
  const dead = new Promise<void>((resolve) => { died = resolve; });
  const wrapStore = (store: Store): Store => ({
    ...store,
    async destroy(model, id) {
      await store.destroy(model, id);
      if (model === 'Session' && dieAfterSessionDeleted) {
        died();
        await new Promise(() => {});
      }
    },
  });
  await withIdpInProcess({}, { wrapStore }, async (inProcess) => {
    const spa = await rpConfig(inProcess.issuer, 'spa');
    // A client that never revokes its refresh token itself (a server-side app, say).
    const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
    const refresh = (token: string) => tokenRequest(inProcess.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: token });
    const rotated = await refresh(tokens.refresh_token!);
    assert.equal(rotated.status, 200);
    dieAfterSessionDeleted = true;
    unanswered = endSessionAsSpa(ua, spa, tokens.id_token!).then(() => 'answered', () => 'cut');
    await dead;
    dieAfterSessionDeleted = false;
    await inProcess.restart();
    const after = await refresh(String(rotated.body['refresh_token']));
    assert.equal(after.status, 400, 'the refresh token of the signed-out session still works');
    assert.equal(after.body['error'], 'invalid_grant');
    const again = await authorizationRequest(spa);
    const page = await followIdpRedirects(ua, inProcess.issuer, again.url);
    assert.equal(page.status, 200, `the IdP session is gone: the login page asks for the password (${page.headers.get('location')})`);
  });
  assert.equal(await unanswered, 'cut', 'the logout was never answered');
});
