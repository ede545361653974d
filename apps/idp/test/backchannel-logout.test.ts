// Back-channel logout as the BFF receives it: a confirmed end-session of the IdP session posts a
// logout token (logout+jwt) to the bff client's registered URI, here a receiver on loopback, which
// oidc-provider's own fetch would refuse to reach.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { backchannelFetch } from '../src/backchannel-fetch.ts';
import { startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import { DEV_BFF_SECRET, endSessionAsSpa, login, rpConfig, type UserAgent } from '../../../tests/support/oidc-rp.ts';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

let idp: InProcessIdp;
let receiver: Server;
let bffOrigin: string;
let spa: oidc.Configuration;
let bff: oidc.Configuration;
/** Logout tokens received, and the status the receiver answers with. */
let received: string[] = [];
let answer = 200;

/** The folder of the clients file written below: removed after the tests. */
let clientsDir: string | undefined;

/** The registered clients with the bff client's URIs moved to the receiver's port. */
function clientsFor(origin: string): string {
  const doc = readFileSync(join(import.meta.dirname, '..', 'config', 'clients.json'), 'utf8');
  clientsDir = mkdtempSync(join(tmpdir(), 'idp-clients-'));
  const file = join(clientsDir, 'clients.json');
  writeFileSync(file, doc.replaceAll('http://localhost:4300', origin));
  return file;
}

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/bff/backchannel') received.push(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(answer).end();
    });
  });
  // Bound first on a port the OS picks, then registered at the IdP: no window in which the port is free.
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  bffOrigin = `http://localhost:${(receiver.address() as AddressInfo).port}`;
  // A hang bound for the receiver's answer (the 2.5 s default can run out on a slow machine).
  idp = await startIdpInProcess({ IDP_CLIENTS_FILE: clientsFor(bffOrigin), IDP_BACKCHANNEL_LOGOUT_TIMEOUT_MS: '60000' });
  spa = await rpConfig(idp.issuer, 'spa');
  bff = await rpConfig(idp.issuer, 'bff', DEV_BFF_SECRET);
});
after(async () => {
  await idp.close();
  await new Promise((resolve) => receiver.close(resolve));
  if (clientsDir) rmSync(clientsDir, { recursive: true, force: true });
});
beforeEach(() => {
  received = [];
  answer = 200;
});

/** alice signs in to the token-mode SPA, then to the BFF in the same browser (no password the second time). */
async function signInToBoth() {
  const spaLogin = await login(spa, 'alice', 'demo-alice');
  const bffLogin = await login(bff, 'nobody', 'unused', spaLogin.ua, { redirect_uri: `${bffOrigin}/bff/callback` });
  return { ua: spaLogin.ua, spaTokens: spaLogin.tokens, bffTokens: bffLogin.tokens };
}

const endSessionFromSpa = (ua: UserAgent, idToken: string) => endSessionAsSpa(ua, spa, idToken);

describe('back-channel logout to the bff client', () => {
  test('the bff client gets sid in its ID tokens (every client does: logout hints are matched with it)', async () => {
    const { spaTokens, bffTokens } = await signInToBoth();
    assert.equal(typeof bffTokens.claims()!['sid'], 'string');
    assert.equal(typeof spaTokens.claims()!['sid'], 'string');
    const refreshed = await oidc.refreshTokenGrant(bff, bffTokens.refresh_token!);
    assert.equal(refreshed.claims()!['sid'], bffTokens.claims()!['sid'], 'the refreshed ID token names the same IdP session');
  });

  test('a logout of the token-mode SPA posts a valid logout token for the BFF session to the loopback receiver', async () => {
    const { ua, spaTokens, bffTokens } = await signInToBoth();
    const done = await endSessionFromSpa(ua, spaTokens.id_token!);
    assert.equal(done.status, 303);
    // oidc-provider answers the end-session only after every back-channel post has finished.
    assert.equal(received.length, 1);
    const token = received[0]!;
    assert.equal(decodeProtectedHeader(token).typ, 'logout+jwt');
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${idp.issuer}/.well-known/jwks.json`)), {
      issuer: idp.issuer, audience: 'bff', typ: 'logout+jwt', requiredClaims: ['iat', 'jti', 'events', 'sid', 'sub'],
    });
    assert.equal(payload.sub, 'auth0|alice');
    assert.equal(payload['sid'], bffTokens.claims()!['sid']);
    assert.deepEqual(payload['events'], { [BACKCHANNEL_EVENT]: {} });
    assert.equal(payload['nonce'], undefined);
    assert.ok(idp.logs.some((l) => l.includes('"backchannel_logout_sent"') && l.includes('"clientId":"bff"')));
    // The BFF's grant ended with the IdP session.
    await assert.rejects(oidc.refreshTokenGrant(bff, bffTokens.refresh_token!), (err: Error & { error?: string }) => err.error === 'invalid_grant');
  });

  test('a receiver that fails is logged, and the logout still completes', async () => {
    answer = 500;
    const { ua, spaTokens } = await signInToBoth();
    const done = await endSessionFromSpa(ua, spaTokens.id_token!);
    assert.equal(done.status, 303);
    assert.equal(received.length, 1);
    assert.ok(idp.logs.some((l) => l.includes('"backchannel_logout_failed"') && l.includes('"clientId":"bff"')));
  });

  test('without a BFF login in the browser nothing is posted', async () => {
    const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
    assert.equal((await endSessionFromSpa(ua, tokens.id_token!)).status, 303);
    assert.deepEqual(received, []);
  });
});

describe('the fetch that reaches back-channel URIs', () => {
  const registered = new Set(['http://localhost:4300/bff/backchannel']);
  const ssrfGuard = { name: 'the provider dispatcher' };
  /** What oidc-provider passes: its SSRF-protected dispatcher in the options. */
  const withGuard = (method: string) => ({ method, dispatcher: ssrfGuard }) as unknown as RequestInit;

  function recordingFetch() {
    const calls: Array<{ url: string; init: { dispatcher?: unknown } }> = [];
    const send = (async (url: string | URL | Request, init: RequestInit = {}) => {
      calls.push({ url: String(url), init });
      return new Response(null, { status: 204 });
    }) as typeof fetch;
    return { calls, send };
  }

  test('drops the SSRF-protected dispatcher only for a POST to a registered URI', async () => {
    const { calls, send } = recordingFetch();
    const fetcher = backchannelFetch(registered, send);
    await fetcher('http://localhost:4300/bff/backchannel', withGuard('POST'));
    assert.equal(calls[0]!.init.dispatcher, undefined);
  });

  test('bounds a back-channel post by its own configured time-out, not the provider\'s 2.5 s', async () => {
    const { calls, send } = recordingFetch();
    const providers = AbortSignal.timeout(2500);
    const ours = new AbortController().signal;
    const asked: number[] = [];
    const fetcher = backchannelFetch(registered, send, { timeoutMs: 60_000, timeoutSignal: (ms) => (asked.push(ms), ours) });
    await fetcher('http://localhost:4300/bff/backchannel', { ...withGuard('POST'), signal: providers });
    await fetcher('https://client.example/jwks', { ...withGuard('GET'), signal: providers });
    assert.deepEqual(asked, [60_000]);
    assert.equal((calls[0]!.init as RequestInit).signal, ours);
    assert.equal((calls[1]!.init as RequestInit).signal, providers, 'any other request keeps the provider\'s bound');
  });

  test('keeps the protection for any other URI or method', async () => {
    const { calls, send } = recordingFetch();
    const fetcher = backchannelFetch(registered, send);
    for (const [url, method] of [
      ['http://localhost:4300/bff/backchannel/other', 'POST'],
      ['http://localhost:4300/bff/backchannel?x=1', 'POST'],
      ['http://127.0.0.1:4300/bff/backchannel', 'POST'],
      ['http://localhost:4300/bff/backchannel', 'GET'],
      ['http://169.254.169.254/latest/meta-data', 'GET'],
    ] as const) {
      await fetcher(url, withGuard(method));
    }
    assert.equal(calls.length, 5);
    for (const call of calls) assert.equal(call.init.dispatcher, ssrfGuard, call.url);
  });
});
