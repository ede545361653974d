// Builds the identity provider: store, clients, users, keys, oidc-provider, login pages. Returns
// a request handler; server.ts is the only place that listens.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type Provider from 'oidc-provider';
import type { JWK } from 'oidc-provider';
import { strictTransportSecurity } from '@suite/process-shell';
import { auth0Logout } from './auth0-logout.ts';
import { cookieNames, cookieSentTwice } from './cookie-names.ts';
import { loadClients } from './clients.ts';
import type { IdpConfig } from './config.ts';
import { systemClock, type Clock } from './clock.ts';
import { contentSecurityPolicy, COOKIE_KEY_MIN_LENGTH, LOGIN_THROTTLE, openerPolicy, retiredKeyGraceSeconds, STORE_UNAVAILABLE_RETRY_AFTER_SECONDS, type SigningAlg } from './defaults.ts';
import { interactionBinding } from './interaction-binding.ts';
import { createInteractionHandler } from './interactions.ts';
import { asFormRequest, hasJsonBodyToConvert } from './json-bodies.ts';
import { answerPostAsGet, isPostAsGet } from './post-as-get.ts';
import { answerDisallowedGrantType, answerStoreOutages, auditProviderEvents, keepOfflineAccess, refuseFraming, refuseIntrospectionWithoutCredentials, revokeGrantsAtLogout } from './koa-middleware.ts';
import { createLogger, type Logger } from './log.ts';
import { readLogoutAnswer } from './logout-confirmation.ts';
import { LoginThrottle } from './login-throttle.ts';
import { createProvider } from './provider.ts';
import { hostHeaderIsWellFormed, pinRequestToIssuer } from './request-host.ts';
import { canonicalizeRequestTarget } from './request-path.ts';
import { END_SESSION_CONFIRM_PATH } from './routes.ts';
import { keySetFingerprint, loadSigningKeys } from './signing-keys.ts';
import { openStore } from './storage/open-store.ts';
import type { Store } from './storage/store.ts';
import { usersFileModeProblem, watchUsersFile, type UserDirectory } from './users.ts';
import { secretWeakness } from './secret-strength.ts';
import { renderErrorPage, renderStillSignedInPage } from './views/logout-pages.ts';

export class StartupError extends Error {}

export interface Idp {
  handle(req: IncomingMessage, res: ServerResponse): void;
  provider(): Provider;
  /** Reloads signing keys from the store; returns true when the published set changed. */
  reloadKeys(): Promise<boolean>;
  logger: Logger;
  close(): Promise<void>;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/idp.css': { file: 'idp.css', type: 'text/css; charset=utf-8' },
  '/assets/auto-submit.js': { file: 'auto-submit.js', type: 'text/javascript; charset=utf-8' },
};
const assetBodies = new Map(Object.entries(ASSETS).map(([path, a]) => [path, readFileSync(join(import.meta.dirname, '..', 'assets', a.file))]));

export interface IdpOptions {
  logger?: Logger;
  env?: Record<string, string | undefined>;
  /** Time of the stores, the login throttle and the IdP's own lifetime arithmetic. */
  clock?: Clock;
  /** Wraps the user directory read from IDP_USERS_FILE (tests count password checks with it). */
  wrapUsers?: (users: UserDirectory) => UserDirectory;
  /** Wraps the opened store (tests hold requests at a point to make races deterministic). */
  wrapStore?: (store: Store) => Store;
}


/** Answers /readyz from the store's health. */
export async function readiness(res: ServerResponse, health: Promise<{ ok: boolean; reason?: string }>): Promise<void> {
  const state = await health.catch((err: Error) => ({ ok: false, reason: err.message }));
  res.writeHead(state.ok ? 200 : 503, {
    'Content-Type': 'application/json',
    ...(state.ok ? {} : { 'Retry-After': String(STORE_UNAVAILABLE_RETRY_AFTER_SECONDS) }),
  });
  res.end(JSON.stringify(state.ok ? { status: 'ready' } : { status: 'unavailable', reason: state.reason }));
}

export async function createIdp(config: IdpConfig, opts: IdpOptions = {}): Promise<Idp> {
  const logger = opts.logger ?? createLogger(config.IDP_LOG_LEVEL);
  const clock = opts.clock ?? systemClock;
  const production = config.IDP_PROFILE === 'production';
  const registry = loadClients(config.IDP_CLIENTS_FILE, opts.env ?? process.env, production);
  // Read again when the file changes: a user removed or a password changed needs no restart.
  const fileUsers = watchUsersFile(config.IDP_USERS_FILE, {
    now: () => clock.now(),
    refuse: (changed) => (production && changed.demo ? 'the production profile refuses demo users' : undefined),
    onChange: (event, fields) => logger.log(event === 'users_file_reloaded' ? 'info' : 'error', event, fields),
  });
  const users = opts.wrapUsers ? opts.wrapUsers(fileUsers) : fileUsers;
  if (production && users.demo) throw new StartupError('the production profile refuses demo users: set IDP_USERS_FILE to your own users file');
  const usersFileMode = usersFileModeProblem(config.IDP_USERS_FILE, users.demo);
  if (usersFileMode?.writable && production) throw new StartupError(usersFileMode.problem);
  if (usersFileMode) logger.log('warn', 'users_file_mode', { problem: usersFileMode.problem });
  if (production && !config.IDP_COOKIE_KEYS) throw new StartupError('the production profile needs IDP_COOKIE_KEYS (the same on every instance)');
  if (production) {
    for (const [i, key] of (config.IDP_COOKIE_KEYS || []).entries()) {
      const weakness = secretWeakness(key, COOKIE_KEY_MIN_LENGTH);
      if (weakness) throw new StartupError(`IDP_COOKIE_KEYS item ${i + 1} is too weak to sign cookies: ${weakness} (generate one: openssl rand -base64 32)`);
    }
  }
  if (production && !config.issuer.startsWith('https://')) throw new StartupError('the production profile needs an https:// IDP_ISSUER');

  const openedStore = await openStore(config, { logger, clock });
  const store = opts.wrapStore ? opts.wrapStore(openedStore) : openedStore;
  const cookieKeys = config.IDP_COOKIE_KEYS
    ? config.IDP_COOKIE_KEYS
    : [await store.getOrSetSetting('cookie-key', randomBytes(32).toString('base64url'))];
  const alg = config.IDP_SIGNING_ALG as SigningAlg;
  const grace = retiredKeyGraceSeconds(config.IDP_ACCESS_TOKEN_TTL, config.IDP_ID_TOKEN_TTL);

  const binding = interactionBinding(store, config.issuer);
  const build = (keys: JWK[]) => {
    const provider = createProvider({ config, registry, users, store, keys, cookieKeys, logger, clock, binding });
    refuseFraming(provider);
    answerStoreOutages(provider);
    keepOfflineAccess(provider);
    auth0Logout(provider, logger);
    revokeGrantsAtLogout(provider, store, logger);
    auditProviderEvents(provider, logger);
    refuseIntrospectionWithoutCredentials(provider);
    answerDisallowedGrantType(provider);
    return { provider, callback: provider.callback(), fingerprint: keySetFingerprint(keys) };
  };
  let current = build(await loadSigningKeys(store, alg, grace, clock));

  const throttle = new LoginThrottle(store, {
    ...LOGIN_THROTTLE,
    windowSeconds: config.IDP_LOGIN_WINDOW,
    maxFailuresPerUserAndIp: config.IDP_LOGIN_MAX_FAILURES_PER_USER_AND_IP,
    maxFailuresPerIp: config.IDP_LOGIN_MAX_FAILURES_PER_IP,
    slowAfter: config.IDP_LOGIN_SLOW_AFTER,
    maxDelayMs: config.IDP_LOGIN_MAX_DELAY_MS,
  }, clock);
  const interactions = createInteractionHandler({ provider: () => current.provider, registry, users, throttle, logger, trustProxy: config.IDP_TRUST_PROXY, binding });
  const csp = contentSecurityPolicy(registry.origins);
  const pinToIssuer = pinRequestToIssuer(config.issuer, config.IDP_TRUST_PROXY);
  const hsts = strictTransportSecurity(config.issuer, config.IDP_HSTS_MAX_AGE);
  // The browser key of logins in progress too: a copy beside ours would choose whose login a page answers.
  const ownCookies = [...Object.values(cookieNames(config.issuer)), binding.cookieName];

  function handle(req: IncomingMessage, res: ServerResponse): void {
    // Every answer, refusals included, once the issuer is https:// (decision 0059).
    if (hsts !== undefined) res.setHeader('Strict-Transport-Security', hsts);
    // The headers of every answer, a refused Host's included.
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (!hostHeaderIsWellFormed(req)) {
      logger.log('debug', 'bad_host_header', { path: (req.url ?? '/').split('?')[0] });
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end('Bad Request: malformed Host header\n');
      return;
    }
    pinToIssuer(req);
    // One spelling of every route for oidc-provider's router and every check keyed on a path.
    canonicalizeRequestTarget(req);
    const path = (req.url ?? '/').split('?')[0]!;
    res.setHeader('Cross-Origin-Opener-Policy', openerPolicy(path));
    const asset = assetBodies.get(path);
    if (asset) {
      res.writeHead(200, { 'Content-Type': ASSETS[path]!.type, 'Cache-Control': 'public, max-age=3600' });
      res.end(asset);
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    const twice = cookieSentTwice(req.headers.cookie, ownCookies);
    if (twice !== undefined) {
      // Which copy is ours cannot be told, and deleting ours would leave the other as the only
      // one: nothing is read, nothing set (decision 0060).
      logger.log('warn', 'cookie_sent_twice', { name: twice, path });
      res.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(renderErrorPage('Your browser sent a sign-in cookie of this site twice',
        'Another site on this host or its parent domain may have set one. Delete this site\'s cookies, then sign in again from the application.'));
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"ok"}');
      return;
    }
    if (path === '/readyz') {
      void readiness(res, store.health());
      return;
    }
    if (path.startsWith('/interaction/')) {
      void interactions(req, res, path);
      return;
    }
    if (req.method === 'POST' && path === END_SESSION_CONFIRM_PATH) {
      void answerLogoutConfirmation(req, res);
      return;
    }
    if (isPostAsGet(req, path)) {
      answerPostAsGet(req, res, path).catch(() => res.destroy());
      return;
    }
    if (hasJsonBodyToConvert(req, path)) {
      void answerJsonBody(req, res);
      return;
    }
    void current.callback(req, res);
  }

  /** A JSON body where Auth0 takes one (json-bodies.ts): on as its form, or invalid_request. */
  async function answerJsonBody(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await asFormRequest(req).catch((err: Error) => ({ refused: err.message }));
    if ('refused' in form) {
      res.writeHead(400, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'invalid_request', error_description: form.refused }));
      return;
    }
    await current.callback(form, res);
  }

  /** The sign-out page's answer: a yes goes on to oidc-provider; anything else ends nothing (logout-confirmation.ts). */
  async function answerLogoutConfirmation(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const answer = await readLogoutAnswer(req).catch((err: Error) => ({ refused: err.message }));
    if ('confirmed' in answer) {
      await current.callback(answer.confirmed, res);
      return;
    }
    if ('declined' in answer) logger.log('info', 'logout_declined', {});
    res.writeHead('declined' in answer ? 200 : 400, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('declined' in answer ? renderStillSignedInPage() : renderErrorPage('invalid_request', answer.refused));
  }

  return {
    handle,
    provider: () => current.provider,
    async reloadKeys() {
      const keys = await loadSigningKeys(store, alg, grace, clock);
      const signedWith = current.fingerprint.split(',')[0];
      if (!keys.some((k) => k.kid === signedWith)) {
        // A signing key leaves the store only after its grace period, long after every instance
        // switched away from it: gone while still signing, the store lost state (emptied, or
        // restored from an older copy), and with it the sessions and grants written since.
        logger.log('error', 'signing_key_lost', { kid: signedWith, signsNow: keys[0]!.kid, store: config.IDP_STORE });
      }
      if (keySetFingerprint(keys) === current.fingerprint) return false;
      current = build(keys);
      logger.log('info', 'signing_keys_reloaded', { kids: current.fingerprint });
      return true;
    },
    logger,
    async close() {
      await store.close();
    },
  };
}
