// The stage of the tests that drive a peer library's hidden-iframe flows in Chromium: an IdP in
// this process with the peer pages' clients registered, the peer pages on that registered origin
// and once more on an origin no client registered (a framing attempt's "foreign" site), and a
// browser. No API: a page's own call after its login goes to the IdP and fails; those tests read
// the user only.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../e2e/support/browser.ts';
import { startIdpInProcess, type InProcessIdp } from '../idp-in-process.ts';
import { peerClients, startPeerPages, type PeerPages, type PeerPagesConfig } from './server.ts';

const root = join(import.meta.dirname, '..', '..', '..');

/** The audience the peer pages ask for: the demo API of the clients file. */
export const PEER_AUDIENCE = 'https://auth0-api-spa';

export interface IdpWithPeerPages {
  idp: InProcessIdp;
  idpOrigin: string;
  /** The registered pages. */
  peers: PeerPages;
  /** The same pages on an origin no client registered. */
  foreign: PeerPages;
  browser: Browser;
  close(): Promise<void>;
}

/** `idpEnv` adds to the IdP's environment (the clients file is set here); it receives the IdP's port. */
export async function startIdpWithPeerPages(idpEnv: (port: number) => Record<string, string> = () => ({})): Promise<IdpWithPeerPages> {
  let config: PeerPagesConfig | undefined;
  const configNow = () => {
    if (!config) throw new Error('the IdP is not up yet');
    return config;
  };
  const dir = mkdtempSync(join(tmpdir(), 'idp-with-peer-pages-'));
  const opened: { close(): Promise<void> }[] = [];
  const close = async () => {
    for (const part of opened.reverse()) await part.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const peers = await startPeerPages(configNow);
    opened.push(peers);
    const foreign = await startPeerPages(configNow);
    opened.push(foreign);
    const clients = JSON.parse(readFileSync(join(root, 'apps', 'idp', 'config', 'clients.json'), 'utf8')) as { clients: unknown[] };
    clients.clients.push(...peerClients(peers.origin));
    writeFileSync(join(dir, 'clients.json'), JSON.stringify(clients));
    const idp = await startIdpInProcess((port) => ({ ...idpEnv(port), IDP_CLIENTS_FILE: join(dir, 'clients.json') }));
    opened.push(idp);
    const idpOrigin = new URL(idp.issuer).origin;
    config = { idpOrigin, issuer: idp.issuer, api: `${idpOrigin}/`, audience: PEER_AUDIENCE, scope: 'openid profile' };
    const browser = await launchChromium();
    opened.push(browser);
    return { idp, idpOrigin, peers, foreign, browser, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Opens a peer page in the profile and waits until its library is set up. */
export async function openPeerPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.locator('body[data-ready="true"]').waitFor();
  return page;
}

/** Signs alice in from a peer page's "Log in" button and waits until the page, back at `pageUrl`, shows her. */
export async function logInAsAlice(page: Page, pageUrl: string): Promise<void> {
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('demo-alice');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.href.startsWith(pageUrl));
  await page.locator('#user:not(:empty)').waitFor();
}
