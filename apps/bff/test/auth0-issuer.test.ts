// Auth0's issuer form (with the trailing slash, Auth0's endpoint paths) through the BFF: every
// endpoint comes from discovery, so login, the API call, a renewal and the logout work with
// BFF_AUTHORITY set to the issuer exactly as discovery names it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import { Browser, startApi, startBff, type ApiUnderTest, type BffUnderTest } from './support/system.ts';

describe('the BFF against an issuer with a trailing slash', () => {
  let idp: InProcessIdp;
  let api: ApiUnderTest;
  let bff: BffUnderTest;

  before(async () => {
    idp = await startIdpInProcess((port) => ({ IDP_ISSUER: `http://localhost:${port}/` }));
    api = await startApi(idp.issuer);
    bff = await startBff({ BFF_AUTHORITY: idp.issuer, BFF_API_URL: api.url });
  });
  after(async () => {
    await bff?.dispose();
    await api?.dispose();
    await idp?.close();
  });

  it('signs in, calls the API, renews and logs out through the discovered endpoints', async () => {
    assert.ok(idp.issuer.endsWith('/'));
    const browser = new Browser(bff);
    await browser.login('alice', 'demo-alice');
    assert.deepEqual((await browser.request('GET', '/api/UserOne')).json(), ['user one data']);
    assert.equal((await browser.request('POST', '/bff/renew')).statusCode, 200);
    assert.deepEqual(bff.tokenCalls, ['authorization_code', 'refresh_token']);
    const logout = await browser.request('POST', '/bff/logout');
    const redirectTo = new URL((logout.json() as { redirectTo: string }).redirectTo);
    assert.equal(redirectTo.href.split('?')[0], `${idp.issuer}oidc/logout`);
    assert.equal((await browser.request('GET', '/bff/user')).statusCode, 401);
  });
});
