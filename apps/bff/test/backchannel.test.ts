// POST /bff/backchannel against the real IdP: a sign-out at the IdP from the token-mode SPA ends
// the BFF session of the same IdP session (and only that one); forged tokens, signed with the
// IdP's own key but wrong in one claim, and a replayed jti are refused with 400 and end nothing.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { generateKeyPair, SignJWT } from 'jose';
import { endSessionAsSpa, login, rpConfig } from '../../../tests/support/oidc-rp.ts';
import { waitForLine } from '../../../tests/support/idp-process.ts';
import { freePort } from '../../../scripts/ports.ts';
import { clientsWithBackchannelAt, idpSigner, BACKCHANNEL_EVENT, type IdpSigner } from './support/idp-signer.ts';
import { auditEvents, Browser, startBff, startSystem, type BffUnderTest, type System } from './support/system.ts';

describe('back-channel logout', () => {
  let system: System;
  let bff: BffUnderTest;
  let spa: oidc.Configuration;
  let signer: IdpSigner;
  let clientsFile: string | undefined;

  before(async () => {
    // The IdP must know the BFF's port before the BFF exists. Another process (or the API's own
    // port-0 listen here) may bind the reserved port meanwhile: then all of it starts again on another.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      clientsFile = clientsWithBackchannelAt(`http://localhost:${port}`);
      system = await startSystem({ IDP_CLIENTS_FILE: clientsFile });
      bff = await startBff({ BFF_AUTHORITY: system.idp.issuer, BFF_API_URL: system.api.url });
      try {
        // The IdP reaches the BFF over the network; the browser stand-in keeps using inject().
        await bff.app.listen({ port, host: '127.0.0.1' });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 4) throw err;
        await bff.dispose();
        await system.dispose();
        rmSync(dirname(clientsFile), { recursive: true, force: true });
      }
    }
    spa = await rpConfig(system.idp.issuer, 'spa');
    signer = await idpSigner(system.idp);
  });
  after(async () => {
    await bff?.dispose();
    await system?.dispose();
    if (clientsFile) rmSync(dirname(clientsFile), { recursive: true, force: true });
  });

  const signedIn = async (browser: Browser) => (await browser.request('GET', '/bff/user')).statusCode === 200;

  async function post(body: string, contentType = 'application/x-www-form-urlencoded') {
    return bff.app.inject({ method: 'POST', url: '/bff/backchannel', headers: { 'content-type': contentType }, payload: body });
  }
  const postToken = (token: string) => post(new URLSearchParams({ logout_token: token }).toString());

  /** A browser signed in to the BFF, and the IdP session id its BFF session is bound to. */
  async function aliceAtTheBff() {
    const browser = new Browser(bff);
    await browser.login();
    const session = await bff.sessions.load(browser.sessionId);
    assert.ok(session?.sid, 'the BFF session knows its IdP session');
    return { browser, sid: session.sid };
  }

  it('signing out of the token-mode SPA ends the BFF session of the same browser, not another browser\'s', async () => {
    const { browser } = await aliceAtTheBff();
    const elsewhere = (await aliceAtTheBff()).browser;
    // The same browser signs in to the token-mode SPA: single sign-on, one IdP session for both.
    const { tokens } = await login(spa, 'nobody', 'unused', browser.idp);
    const done = await endSessionAsSpa(browser.idp, spa, tokens.id_token!);
    assert.equal(done.status, 303);
    // The IdP answers the end-session only after the BFF has answered its back-channel post; its
    // log line comes on another channel (the IdP's stdout), so it may arrive after the answer.
    await waitForLine(system.idp.logs, (l) => l.includes('"backchannel_logout_sent"') || l.includes('"backchannel_logout_failed"'), 'back-channel delivery line');
    assert.ok(system.idp.logs.some((l) => l.includes('"backchannel_logout_sent"')), system.idp.logs.filter((l) => l.includes('backchannel')).join('\n'));
    const res = await browser.request('GET', '/bff/user');
    assert.equal(res.statusCode, 401);
    assert.ok(await signedIn(elsewhere), 'another IdP session of the same user is untouched');
    const audit = auditEvents(bff, 'backchannel_logout').at(-1);
    assert.equal(audit?.['sessions'], 1);
    assert.equal(audit?.['by'], 'sid');
  });

  it('a token without sid ends every session of its user', async () => {
    const one = (await aliceAtTheBff()).browser;
    const two = (await aliceAtTheBff()).browser;
    const res = await postToken(await signer.logoutToken());
    assert.equal(res.statusCode, 200);
    assert.equal(await signedIn(one), false);
    assert.equal(await signedIn(two), false);
  });

  describe('refused with 400, the session lives', () => {
    const cases: Array<[string, (sid: string) => Promise<string>]> = [
      ['signed by a key the IdP does not publish', async (sid) => {
        const { privateKey } = await generateKeyPair('RS256');
        const iat = Math.floor(Date.now() / 1000);
        return new SignJWT({ iss: system.idp.issuer, aud: 'bff', iat, exp: iat + 60, jti: `stranger-${iat}`, sid, events: { [BACKCHANNEL_EVENT]: {} } })
          .setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt', kid: 'stranger' }).sign(privateKey);
      }],
      ['for another audience', (sid) => signer.logoutToken({ claims: { sid, aud: 'spa' } })],
      ['with a nonce (an ID token passed off as a logout token)', (sid) => signer.logoutToken({ claims: { sid, nonce: 'n' } })],
      ['without the events claim', (sid) => signer.logoutToken({ claims: { sid }, drop: ['events'] })],
      ['typed as an ID token', (sid) => signer.logoutToken({ claims: { sid }, typ: 'JWT' })],
      ['from another issuer', (sid) => signer.logoutToken({ claims: { sid, iss: 'https://evil.example' } })],
    ];
    for (const [name, forge] of cases) {
      it(name, async () => {
        const { browser, sid } = await aliceAtTheBff();
        const res = await postToken(await forge(sid));
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json().error, 'invalid_request');
        assert.ok(await signedIn(browser));
      });
    }

    it('a replayed jti', async () => {
      const { browser, sid } = await aliceAtTheBff();
      const jti = `replayed-${Date.now()}`;
      // First use: a genuine-looking token for an IdP session that has no BFF session here.
      assert.equal((await postToken(await signer.logoutToken({ claims: { jti, sid: 'some-other-idp-session' } }))).statusCode, 200);
      const replay = await postToken(await signer.logoutToken({ claims: { jti, sid } }));
      assert.equal(replay.statusCode, 400);
      assert.match(replay.json().error_description, /jti already used/);
      assert.ok(await signedIn(browser));
    });

    it('no logout_token, or not a form', async () => {
      const { browser } = await aliceAtTheBff();
      assert.equal((await post('')).statusCode, 400);
      assert.equal((await post('logout_token=')).statusCode, 400);
      assert.equal((await post('logout_token=not-a-jwt')).statusCode, 400);
      assert.equal((await post(JSON.stringify({ logout_token: await signer.logoutToken() }), 'application/json')).statusCode, 415);
      assert.ok(await signedIn(browser));
      assert.ok(auditEvents(bff, 'backchannel_logout_refused').length >= 3);
    });
  });
});
