// Nothing is lost when the IdP is killed: sessions, grants, refresh tokens and signing keys survive.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startIdp, type IdpProcess } from '../../../tests/support/idp-process.ts';
import { decodeJwt, login, rpConfig } from '../../../tests/support/oidc-rp.ts';

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
