// Minimal pages for relying parties nobody here wrote, Auth0's SPA SDK and oidc-client-ts, loaded
// unchanged from node_modules (their browser builds), served on 127.0.0.1 for the e2e tests and
// the benchmark's login round trip; beside them, the oidc-client-ts page's logic as a minimal
// Angular app (./angular, served from its production build once `buildAngularPeer` made it).
// Register `peerClients(origin)` at the IdP and allow the origin at the API (CORS) and the client
// ids in the API's policy.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { contentSecurityPolicy, ensureBuilt, isBuildStale, SECURITY_HEADERS, type AngularApp } from '@suite/spa-hosting';

const root = join(import.meta.dirname, '..', '..', '..');
const pagesDir = join(import.meta.dirname, 'pages');

export const PEER_CLIENT_IDS = { auth0SpaJs: 'auth0-spa-js', oidcClientTs: 'oidc-client-ts', oidcClientTsAngular: 'oidc-client-ts-angular' } as const;

/**
 * oidc-client-ts's silent callback page, where its hidden iframe comes back to (signoutSilent, with
 * this page as its post_logout_redirect_uri): the one page here that its own origin may frame.
 */
const OIDC_CLIENT_TS_SILENT_PATH = `/${PEER_CLIENT_IDS.oidcClientTs}-silent.html`;

const ANGULAR_PATH = PEER_CLIENT_IDS.oidcClientTsAngular;

/** The minimal Angular app: its page is `/oidc-client-ts-angular.html`, its build's files under `/oidc-client-ts-angular/` (its base href). */
export const ANGULAR_PEER: AngularApp = {
  appDir: join(import.meta.dirname, 'angular'),
  distDir: join(import.meta.dirname, 'angular', 'dist', 'oidc-client-ts-angular', 'browser'),
};

/** Builds the minimal Angular app (AOT, production) when its build is missing or older than its sources; returns why not, if not. */
export function buildAngularPeer(log: (line: string) => void): string | undefined {
  try {
    ensureBuilt(ANGULAR_PEER, log);
    return undefined;
  } catch (err) {
    return `the minimal Angular app did not build: ${(err as Error).message}`;
  }
}

export interface PeerPagesConfig {
  /** The IdP's origin: Auth0's SDK takes it as `domain`. */
  idpOrigin: string;
  /** The issuer exactly (oidc-client-ts reads discovery from it). */
  issuer: string;
  api: string;
  audience: string;
  scope: string;
  /** oidc-client-ts's `loadUserInfo` (default true here, so the tests see userinfo; the library's own default is false). */
  oidcClientTsLoadUserInfo?: boolean;
}

export interface PeerPages {
  origin: string;
  /** URL of the page driving one library. */
  auth0SpaJs: string;
  oidcClientTs: string;
  /** oidc-client-ts's silent callback page (a post-logout redirect URI of its client). */
  oidcClientTsSilent: string;
  /** The minimal Angular app's page, or why it is not served (no build, or one older than its sources). */
  oidcClientTsAngular: string | { unavailable: string };
  close(): Promise<void>;
}

const PAGES = {
  'auth0-spa-js': { title: "Auth0's SPA SDK", library: 'auth0-spa-js.production.js', file: join(root, 'node_modules', '@auth0', 'auth0-spa-js', 'dist', 'auth0-spa-js.production.js') },
  'oidc-client-ts': { title: 'oidc-client-ts', library: 'oidc-client-ts.min.js', file: join(root, 'node_modules', 'oidc-client-ts', 'dist', 'browser', 'oidc-client-ts.min.js') },
} as const;

/** Public SPA clients for the pages: code + PKCE, refresh tokens, the page as redirect and logout URI. */
export function peerClients(origin: string): Array<{ client_id: string } & Record<string, unknown>> {
  return Object.entries(PEER_CLIENT_IDS).map(([, clientId]) => ({
    client_id: clientId,
    client_name: `Peer page (${clientId})`,
    first_party: true,
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [`${origin}/${clientId}.html`],
    post_logout_redirect_uris: [`${origin}/${clientId}.html`, ...(clientId === PEER_CLIENT_IDS.oidcClientTs ? [`${origin}${OIDC_CLIENT_TS_SILENT_PATH}`] : [])],
  }));
}

/**
 * Serves the pages on `port` (by default one the OS picks as the server binds it, so that no other
 * process can take it first). `config` may be a function, read at each request: the pages' origin
 * is then known (and can be registered at the IdP) before the IdP and the API it names start.
 */
export async function startPeerPages(config: PeerPagesConfig | (() => PeerPagesConfig), port = 0): Promise<PeerPages> {
  const configNow = typeof config === 'function' ? config : () => config;
  const template = readFileSync(join(pagesDir, 'page.html'), 'utf8');
  const files = new Map<string, { type: string; body: Buffer | string | ((config: PeerPagesConfig) => string) }>();
  const js = 'text/javascript; charset=utf-8';
  files.set('/shared.js', { type: js, body: readFileSync(join(pagesDir, 'shared.js')) });
  files.set('/config.json', {
    type: 'application/json',
    body: (current: PeerPagesConfig) => JSON.stringify({ ...current, oidcClientTsLoadUserInfo: current.oidcClientTsLoadUserInfo ?? true, clientIds: PEER_CLIENT_IDS }),
  });
  for (const [name, page] of Object.entries(PAGES)) {
    const html = template.replaceAll('{{title}}', page.title).replaceAll('{{library}}', page.library).replaceAll('{{name}}', name);
    files.set(`/${name}.html`, { type: 'text/html; charset=utf-8', body: html });
    files.set(`/${name}.js`, { type: js, body: readFileSync(join(pagesDir, `${name}.js`)) });
    files.set(`/lib/${page.library}`, { type: js, body: readFileSync(page.file) });
  }
  const silent = readFileSync(join(pagesDir, 'silent.html'), 'utf8').replaceAll('{{title}}', PAGES['oidc-client-ts'].title)
    .replaceAll('{{library}}', PAGES['oidc-client-ts'].library).replaceAll('{{name}}', 'oidc-client-ts');
  files.set(OIDC_CLIENT_TS_SILENT_PATH, { type: 'text/html; charset=utf-8', body: silent });
  files.set('/oidc-client-ts-silent.js', { type: js, body: readFileSync(join(pagesDir, 'oidc-client-ts-silent.js')) });
  const angular = serveAngularPeer(files);
  let origins: { of: PeerPagesConfig; origins: string[] } | undefined;
  const connectOrigins = (current: PeerPagesConfig) => {
    if (origins?.of !== current) origins = { of: current, origins: [current.idpOrigin, new URL(current.api).origin] };
    return origins.origins;
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const file = files.get(path);
    let current: PeerPagesConfig;
    try {
      current = configNow();
    } catch (err) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end((err as Error).message);
      return;
    }
    // Our SPA's security headers on every answer, as its own server sends them (decision 0034).
    for (const [name, value] of Object.entries(peerSecurityHeaders(path, connectOrigins(current), current.idpOrigin))) res.setHeader(name, value);
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end();
      return;
    }
    // The libraries' files are versioned (cached for good, as from a CDN or a hashed bundle, and as
    // our SPA's hashed bundles are); the pages and their configuration are not.
    const cache = path.startsWith('/lib/') || path.startsWith(`/${ANGULAR_PATH}/`) ? 'public, max-age=31536000, immutable' : 'no-store';
    res.writeHead(200, { 'content-type': file.type, 'cache-control': cache });
    res.end(req.method === 'HEAD' ? undefined : typeof file.body === 'function' ? file.body(current) : file.body);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    auth0SpaJs: `${origin}/auth0-spa-js.html`,
    oidcClientTs: `${origin}/oidc-client-ts.html`,
    oidcClientTsSilent: `${origin}${OIDC_CLIENT_TS_SILENT_PATH}`,
    oidcClientTsAngular: angular ?? `${origin}/${ANGULAR_PATH}.html`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Adds the Angular build's page and files (hashed names, cached for good like the libraries); returns why not, if not. */
function serveAngularPeer(files: Map<string, { type: string; body: Buffer | string | ((config: PeerPagesConfig) => string) }>): { unavailable: string } | undefined {
  const { distDir } = ANGULAR_PEER;
  if (!existsSync(join(distDir, 'index.html'))) return { unavailable: 'the minimal Angular app is not built (buildAngularPeer)' };
  if (isBuildStale(ANGULAR_PEER)) return { unavailable: 'the minimal Angular app\'s build is older than its sources' };
  files.set(`/${ANGULAR_PATH}.html`, { type: 'text/html; charset=utf-8', body: readFileSync(join(distDir, 'index.html')) });
  for (const name of readdirSync(distDir)) {
    if (name.endsWith('.js')) files.set(`/${ANGULAR_PATH}/${name}`, { type: 'text/javascript; charset=utf-8', body: readFileSync(join(distDir, name)) });
  }
  return undefined;
}

/**
 * The headers our SPA's pages and files send (`@suite/spa-hosting`: COOP, CORP, nosniff, referrer
 * and permissions policies, framing refused, its CSP), so that the login round trip compares the
 * libraries and the apps under one policy, as a production deployment of either would send it.
 * Adapted only where a page needs it to work: the CSP's connect-src names the IdP and the API (as
 * our SPA's in token mode); Auth0's SDK runs its token requests in a Worker made from a blob: URL
 * (worker-src) and, with its defaults (no refresh tokens), its silent login (`checkSession`,
 * `getTokenSilently`) in a hidden iframe at the IdP (frame-src, the IdP's origin only, decision
 * 0041); its page opens the IdP in a popup (`loginWithPopup`), whose handle COOP
 * `same-origin` would sever (decision 0014), so that page alone sends `same-origin-allow-popups`,
 * which switches browsing-context group on the return from the IdP as `same-origin` does.
 * oidc-client-ts's page needs no such change for its `signinPopup`: its popup returns to the page,
 * which has lost its opener under either value, and the library hands the response back over a
 * BroadcastChannel (an e2e scenario logs in through it). Its `signoutSilent` runs the IdP's
 * end-session in a hidden iframe that comes back to the page's silent callback page (decision
 * 0051): the page may frame the IdP and itself (frame-src), and the silent page, which shows
 * nothing, may be framed by its own origin alone (frame-ancestors 'self', no X-Frame-Options).
 */
/**
 * Our SPA's CSP for a peer page, but for its Trusted Types directives (decision 0072): those name
 * the policies our app needs (Angular's), and the peers' libraries were not written for them
 * (Auth0's SDK starts its token worker from a string URL). Enforcing them costs a page that reaches
 * no sink nothing measurable, so the bench's comparison is not changed by leaving them out.
 */
export function peerContentSecurityPolicy(nonce: string, connectOrigins: readonly string[]): string {
  return contentSecurityPolicy(nonce, connectOrigins).split('; ').filter((directive) => !/^(require-trusted-types-for|trusted-types) /.test(directive)).join('; ');
}

function peerSecurityHeaders(path: string, connectOrigins: readonly string[], idpOrigin: string): Record<string, string> {
  const auth0 = path === `/${PEER_CLIENT_IDS.auth0SpaJs}.html`;
  const oidcClientTs = path === `/${PEER_CLIENT_IDS.oidcClientTs}.html`;
  const silent = path === OIDC_CLIENT_TS_SILENT_PATH;
  let csp = peerContentSecurityPolicy(randomBytes(16).toString('base64'), connectOrigins) + (auth0 ? `; worker-src 'self' blob:; frame-src ${idpOrigin}` : '')
    + (oidcClientTs ? `; frame-src ${idpOrigin} 'self'` : '');
  if (silent) csp = csp.replace("frame-ancestors 'none'", "frame-ancestors 'self'");
  const { 'X-Frame-Options': xfo, ...headers } = SECURITY_HEADERS;
  return {
    ...headers,
    ...(silent ? {} : { 'X-Frame-Options': xfo! }),
    ...(auth0 ? { 'Cross-Origin-Opener-Policy': 'same-origin-allow-popups' } : {}),
    'Content-Security-Policy': csp,
  };
}
