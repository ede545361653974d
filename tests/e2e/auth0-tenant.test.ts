// The whole system with the IdP configured like an Auth0 tenant (issuer with the trailing slash,
// Auth0's access-token profile, Auth0's paths) and the API and SPA pointed at it exactly as the
// README's "Pointing at a real Auth0 tenant" recipe says. On it: the SPA's token-mode scenarios,
// and two relying parties nobody here wrote, Auth0's SPA SDK and oidc-client-ts, unchanged (and
// oidc-client-ts again inside a minimal Angular app, the bench's bound for the login round trip).
import { after, before, describe } from 'node:test';
import type { Browser } from 'playwright-core';
import { buildAngularPeer, PEER_CLIENT_IDS, peerClients, startPeerPages, type PeerPages, type PeerPagesConfig } from '../support/peers/server.ts';
import { auth0SpaJsScenarios, oidcClientTsAngularScenarios, oidcClientTsScenarios } from './scenarios/peer-clients.ts';
import { SPA_SCENARIO_ENV, spaTokenModeScenarios } from './scenarios/spa-token-mode.ts';
import { launchChromium } from './support/browser.ts';
import { discoverEndpoints, startSystem, type IdpEndpoints, type RunningSystem } from './support/system.ts';

const AUDIENCE = 'https://auth0-api-spa';
const SCOPE = 'openid profile offline_access auth0-user-api-spa';

describe('the system configured like an Auth0 tenant', { timeout: 900_000 }, () => {
  let system: RunningSystem;
  let browser: Browser;
  let endpoints: IdpEndpoints;
  let peers: PeerPages;

  before(async () => {
    const buildProblem = buildAngularPeer((line) => console.log(`minimal Angular app: ${line}`));
    if (buildProblem) throw new Error(buildProblem);
    // The peer pages listen first, on a port the OS picks as they bind it, so that the system's
    // IdP registers their origin and its API allows it; they read the configuration naming the
    // IdP and the API once the system is up (on ports of its own choosing, retried when taken).
    let peersConfig: PeerPagesConfig | undefined;
    peers = await startPeerPages(() => {
      if (!peersConfig) throw new Error('the peer pages were asked for their configuration before the system was up');
      return peersConfig;
    });
    const peersOrigin = peers.origin;
    system = await startSystem({
      env: ({ idp, spa }) => ({
        ...SPA_SCENARIO_ENV,
        // The tenant: Auth0's issuer form and token profile (its paths are the IdP's own).
        IDP_ISSUER: `${idp}/`,
        IDP_ACCESS_TOKEN_PROFILE: 'auth0',
        // The README's recipe, with this tenant's values.
        AUTH_AUTHORITY: `${idp}/`,
        AUTH_TOKEN_TYPES: 'at+jwt,JWT',
        AUTH_ALLOWED_CLIENTS: ['spa', ...Object.values(PEER_CLIENT_IDS)].join(','),
        SPA_AUTHORITY: idp,
        SPA_CLIENT_ID: 'spa',
        API_CORS_ORIGINS: `${spa},${peersOrigin}`,
      }),
      extraClients: peerClients(peersOrigin),
    });
    endpoints = await discoverEndpoints(system.idp);
    peersConfig = { idpOrigin: system.idp, issuer: endpoints.issuer, api: system.api, audience: AUDIENCE, scope: SCOPE };
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await peers?.close();
    await system?.stop();
  });

  const started = () => ({ system, browser, endpoints, peers });
  auth0SpaJsScenarios(started);
  oidcClientTsScenarios(started);
  oidcClientTsAngularScenarios(started);
  spaTokenModeScenarios(started);
});
