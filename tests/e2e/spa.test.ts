// The Angular SPA end to end in Debian's Chromium, against the whole system started as
// `npm start` starts it (short access tokens so that refreshes happen during the run), and Swagger
// UI's popup sign-in against the same system with the API's default development configuration.
import { after, before, describe } from 'node:test';
import type { Browser } from 'playwright-core';
import { SPA_SCENARIO_ENV, spaTokenModeScenarios } from './scenarios/spa-token-mode.ts';
import { swaggerUiScenario } from './scenarios/swagger-ui.ts';
import { launchChromium } from './support/browser.ts';
import { discoverEndpoints, startSystem, type IdpEndpoints, type RunningSystem } from './support/system.ts';

describe('SPA end to end in Chromium', { timeout: 600_000 }, () => {
  let system: RunningSystem;
  let browser: Browser;
  let endpoints: IdpEndpoints;

  before(async () => {
    system = await startSystem({ env: SPA_SCENARIO_ENV });
    endpoints = await discoverEndpoints(system.idp);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await system?.stop();
  });

  spaTokenModeScenarios(() => ({ system, browser, endpoints }));
  swaggerUiScenario(() => ({ system, browser, endpoints }));
});
