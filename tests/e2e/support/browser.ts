// Debian's Chromium driven by playwright-core (never a downloaded browser), with helpers for the
// SPA's pages and a log of every request the pages make.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS } from '../../support/chromium.ts';

export { CHROMIUM };
export const ARTIFACTS = join(import.meta.dirname, '..', '..', '..', 'test-results', 'e2e');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Debian's Chromium is missing (${CHROMIUM}). Install it with: sudo apt-get update && sudo apt-get install -y chromium`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface SeenRequest {
  url: string;
  method: string;
  authorization: string | undefined;
  /** Form body of POSTs (token requests), kept in memory for assertions only. */
  body: string | null;
}

export interface BrowserLog {
  requests: SeenRequest[];
  /** Console messages about Content-Security-Policy violations, on any page. */
  cspViolations: string[];
}

/**
 * Playwright's own waits (an action, a locator's waitFor, a navigation) give up after 30 s; a busy
 * two-core machine running the whole system can take longer. A hang bound, not a timing assertion.
 */
export const PAGE_WAIT_BOUND_MS = 60_000;

export function withHangBounds(context: BrowserContext): BrowserContext {
  context.setDefaultTimeout(PAGE_WAIT_BOUND_MS);
  context.setDefaultNavigationTimeout(PAGE_WAIT_BOUND_MS);
  return context;
}

/** A fresh browser profile (own storage and IdP cookies) that records every request. */
export async function newProfile(browser: Browser, log: BrowserLog): Promise<BrowserContext> {
  const context = withHangBounds(await browser.newContext());
  context.on('request', (request) => {
    log.requests.push({ url: request.url(), method: request.method(), authorization: request.headers()['authorization'], body: request.postData() });
  });
  context.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) log.cspViolations.push(`${message.location().url}: ${message.text()}`);
  });
  // Every violation the page's own document reports, whether or not the browser also logs it: a
  // Trusted Types refusal (a string assigned to innerHTML, a policy the CSP does not name) only
  // throws in the page, where the app or a library may catch it.
  await context.exposeBinding(CSP_VIOLATION_BINDING, ({ frame }, violation: string) => {
    log.cspViolations.push(`${frame.url()}: ${violation}`);
  });
  await context.addInitScript({ content: REPORT_CSP_VIOLATIONS });
  return context;
}

const CSP_VIOLATION_BINDING = '__e2eCspViolation';

/** Runs in every document before its own scripts: hands each securitypolicyviolation event to the test. */
const REPORT_CSP_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (event) => {
  window.${CSP_VIOLATION_BINDING}('Content Security Policy violation: ' + event.effectiveDirective + ' (' + event.disposition + ') blocked '
    + (event.blockedURI || 'inline') + (event.sample ? ': ' + event.sample : ''));
});`;

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Signs in through the IdP's login page and waits until the SPA shows the user. */
export async function logIn(page: Page, spa: string, username: string, password: string): Promise<void> {
  await page.goto(spa);
  await page.getByRole('banner').getByRole('button', { name: 'Log in' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.origin === spa);
  await page.getByTestId('user-name').waitFor();
}

interface StoredSession {
  accessToken: string;
  refreshToken: string;
}

/** The session the SPA keeps in localStorage (shared by the profile's tabs). */
export async function storedSession(page: Page): Promise<StoredSession | null> {
  const raw = await page.evaluate('localStorage.getItem("spa.auth.spa")');
  if (typeof raw !== 'string') return null;
  const parsed = JSON.parse(raw) as { authzData?: string; authnResult?: { refresh_token?: string } };
  if (!parsed.authzData || !parsed.authnResult?.refresh_token) return null;
  return { accessToken: parsed.authzData, refreshToken: parsed.authnResult.refresh_token };
}

/** Every storage key the SPA's origin holds, in both storages. */
export async function storageKeys(page: Page): Promise<string[]> {
  return (await page.evaluate('[...Object.keys(localStorage), ...Object.keys(sessionStorage)]')) as string[];
}

export function jwtClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * Page script handing strings to DOM-XSS sinks, and making a Trusted Types policy of its own, as
 * script that got into the page would (a value from the URL, the API, another tab): what each
 * attempt threw ('none' when the browser took it).
 */
const DOM_XSS_ATTEMPTS = `(() => {
  const payload = '<img src="data:," onerror="window.__domXss = (window.__domXss || 0) + 1">';
  const attempts = {
    innerHTML: () => { document.body.appendChild(document.createElement('div')).innerHTML = payload; },
    insertAdjacentHTML: () => { document.body.insertAdjacentHTML('beforeend', payload); },
    iframeSrcdoc: () => { document.createElement('iframe').srcdoc = payload; },
    domParser: () => { new DOMParser().parseFromString(payload, 'text/html'); },
    scriptText: () => { document.createElement('script').text = 'window.__domXss = 1'; },
    scriptSrc: () => { document.createElement('script').src = 'data:text/javascript,window.__domXss=1'; },
    ownPolicy: () => { trustedTypes.createPolicy('attacker', { createHTML: (s) => s }); },
  };
  const thrown = {};
  for (const [name, attempt] of Object.entries(attempts)) {
    try { attempt(); thrown[name] = 'none'; } catch (error) { thrown[name] = error.name; }
  }
  return thrown;
})()`;

export const DOM_XSS_SINKS = ['innerHTML', 'insertAdjacentHTML', 'iframeSrcdoc', 'domParser', 'scriptText', 'scriptSrc', 'ownPolicy'] as const;

/** Runs DOM_XSS_ATTEMPTS in the page: what each threw, and whether any of the payload's markup got into the document. */
export async function tryDomXssSinks(page: Page): Promise<{ thrown: Record<string, string>; inserted: boolean }> {
  const thrown = (await page.evaluate(DOM_XSS_ATTEMPTS)) as Record<string, string>;
  const inserted = (await page.evaluate('document.querySelectorAll("img[onerror]").length > 0')) as boolean;
  return { thrown, inserted };
}
