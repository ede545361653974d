// The peer pages (tests/support/peers: Auth0's SPA SDK, oidc-client-ts, and the bench's Angular
// bound, same server) are served under our SPA's own security headers, read from
// @suite/spa-hosting, so that the bench's login round trip compares libraries and apps under one
// header policy (decision 0034). Fails when a page or file stops sending one of them, or sends a
// CSP other than our SPA's but for what a page needs to work (and our Trusted Types directives,
// which name our app's policies: decision 0072).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { contentSecurityPolicy as spaContentSecurityPolicy, SECURITY_HEADERS, TRUSTED_TYPES_POLICIES } from '@suite/spa-hosting';
import { startPeerPages, type PeerPages } from './support/peers/server.ts';

/** Our SPA's CSP without its Trusted Types directives, which name our app's policies (decision 0072). */
function contentSecurityPolicy(nonce: string, connectOrigins: readonly string[]): string {
  const trustedTypes = `; require-trusted-types-for 'script'; trusted-types ${TRUSTED_TYPES_POLICIES.join(' ')}`;
  const csp = spaContentSecurityPolicy(nonce, connectOrigins);
  assert.ok(csp.includes(trustedTypes), csp);
  return csp.replace(trustedTypes, '');
}

const IDP = 'http://localhost:4400';
const API = 'http://localhost:5001';

let peers: PeerPages;
before(async () => {
  peers = await startPeerPages({ idpOrigin: IDP, issuer: `${IDP}/`, api: `${API}/`, audience: 'https://api', scope: 'openid' });
});
after(() => peers.close());

async function headersOf(path: string): Promise<Headers> {
  const res = await fetch(`${peers.origin}${path}`);
  await res.arrayBuffer();
  return res.headers;
}

/** The per-response nonce of a CSP (our SPA's policy carries one for Angular's style elements). */
function nonceOf(csp: string): string {
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  assert.ok(nonce, `a nonce in ${csp}`);
  return nonce;
}

test("every file served beside the pages sends our SPA's security headers and its CSP, connect-src naming the IdP and the API", async () => {
  const paths = ['/oidc-client-ts.js', '/oidc-client-ts-silent.js', '/lib/oidc-client-ts.min.js', '/shared.js', '/config.json', '/auth0-spa-js.js', '/lib/auth0-spa-js.production.js', '/no-such-file.js'];
  for (const path of paths) {
    const headers = await headersOf(path);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(headers.get(name), value, `${path}: ${name}`);
    const csp = headers.get('content-security-policy') ?? '';
    assert.equal(csp, contentSecurityPolicy(nonceOf(csp), [IDP, API]), `${path}: the CSP`);
  }
});

test("Auth0's SDK page: the same, but for a blob: worker (its token requests), the IdP as the one frame source (its silent login's hidden iframe) and an opener policy that keeps loginWithPopup's popup", async () => {
  const headers = await headersOf('/auth0-spa-js.html');
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (name !== 'Cross-Origin-Opener-Policy') assert.equal(headers.get(name), value, name);
  }
  // Still a browsing-context group of its own on the return from the IdP, as our SPA's same-origin.
  assert.equal(headers.get('cross-origin-opener-policy'), 'same-origin-allow-popups');
  const csp = headers.get('content-security-policy') ?? '';
  assert.equal(csp, `${contentSecurityPolicy(nonceOf(csp), [IDP, API])}; worker-src 'self' blob:; frame-src ${IDP}`);
});

test("the oidc-client-ts page: the same, but for the IdP and itself as frame sources (signoutSilent's hidden iframe, back to its silent page)", async () => {
  const headers = await headersOf('/oidc-client-ts.html');
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(headers.get(name), value, name);
  const csp = headers.get('content-security-policy') ?? '';
  assert.equal(csp, `${contentSecurityPolicy(nonceOf(csp), [IDP, API])}; frame-src ${IDP} 'self'`);
});

test("oidc-client-ts's silent callback page: the same, but framed by its own origin and no other (no X-Frame-Options, which cannot say so)", async () => {
  const headers = await headersOf('/oidc-client-ts-silent.html');
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(headers.get(name), name === 'X-Frame-Options' ? null : value, name);
  const csp = headers.get('content-security-policy') ?? '';
  assert.equal(csp, contentSecurityPolicy(nonceOf(csp), [IDP, API]).replace("frame-ancestors 'none'", "frame-ancestors 'self'"));
});

test('each response gets a nonce of its own', async () => {
  const [a, b] = [await headersOf('/oidc-client-ts.html'), await headersOf('/oidc-client-ts.html')];
  assert.notEqual(nonceOf(a.get('content-security-policy') ?? ''), nonceOf(b.get('content-security-policy') ?? ''));
});
