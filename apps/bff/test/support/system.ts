// The BFF under test with a real IdP (child process) and a real API (in process, on a loopback
// port), a fake SPA build, a captured log, an optional manual clock, and a browser stand-in:
// a cookie jar for the BFF driven by inject(), and a user agent for the IdP's login form.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { IncomingHttpHeaders } from 'node:http';
import { CONFIG_PLACEHOLDER, NONCE_PLACEHOLDER } from '@suite/spa-hosting';
import { buildApi, type Api } from '../../../api/src/app.ts';
import { readApiConfig } from '../../../api/src/config.ts';
import { startIdp, type IdpProcess } from '../../../../tests/support/idp-process.ts';
import { followIdpRedirects, submitLogin, userAgent, type UserAgent } from '../../../../tests/support/oidc-rp.ts';
import { buildBff, type Bff } from '../../src/app.ts';
import { readBffConfig, type BffConfig } from '../../src/config.ts';
import { SESSION_COOKIE } from '../../src/defaults.ts';

export const PUBLIC_URL = 'http://localhost:4300';
export const INDEX_HTML = `<html><head><meta name="spa-config" content="${CONFIG_PLACEHOLDER}"></head><body><app-root ngCspNonce="${NONCE_PLACEHOLDER}"></app-root><script src="main-ABCDEFGH.js" type="module"></script></body></html>`;

/** A clock the test moves by hand; starts at the real time (the IdP's tokens carry real times). */
export class ManualClock {
  #offset = 0;
  readonly now = (): number => Date.now() + this.#offset;
  advance(ms: number): void {
    this.#offset += ms;
  }
}

export interface ApiUnderTest {
  api: Api;
  url: string;
  /** Headers of every request the API received, in order. */
  received: Array<{ url: string; headers: IncomingHttpHeaders }>;
  dispose(): Promise<void>;
}

export async function startApi(issuer: string): Promise<ApiUnderTest> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bff-test-api-'));
  const api = buildApi(readApiConfig({ AUTH_AUTHORITY: issuer, API_DATA_DIR: dataDir, API_LOG_LEVEL: 'silent' }));
  const received: ApiUnderTest['received'] = [];
  api.app.addHook('onRequest', async (req) => {
    received.push({ url: req.url, headers: { ...req.headers } });
  });
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  await api.authority.start();
  const { port } = api.app.server.address() as AddressInfo;
  return {
    api, received, url: `http://127.0.0.1:${port}`,
    async dispose() {
      await api.app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface BffUnderTest extends Bff {
  config: BffConfig;
  logs: Array<Record<string, unknown>>;
  /** Every raw log line, for "no secret in a log" checks. */
  rawLogs: string[];
  /** Token-endpoint calls the BFF made, by grant type. */
  tokenCalls: string[];
  /**
   * Set to make the IdP's revocation endpoint, or its refresh grant, unreachable for the BFF;
   * `revocationHeld`: revocations reach the IdP only once that promise resolves (an IdP that does
   * not answer yet); `wrongSecret`: the BFF authenticates with a secret the IdP does not know (a
   * secret rotated at the IdP only).
   */
  faults: { revocation: boolean; refresh: boolean; revocationHeld?: Promise<void>; wrongSecret?: boolean };
  /** The bounded waits the BFF started (logout's for the revocation), each ended only by the test. */
  waits: Array<{ ms: number; end(): void }>;
  dataDir: string;
  dispose(): Promise<void>;
  /** Builds another BFF on the same data directory (a restart). */
  restart(): Promise<BffUnderTest>;
}

export async function startBff(env: Record<string, string>, clock?: ManualClock, dataDir = mkdtempSync(join(tmpdir(), 'bff-test-')), waitForIdp = true): Promise<BffUnderTest> {
  const distDir = join(dataDir, 'dist');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(distDir, { recursive: true });
  writeFileSync(join(distDir, 'index.html'), INDEX_HTML);
  writeFileSync(join(distDir, 'main-ABCDEFGH.js'), 'console.log("app");\n');
  const config = readBffConfig({ BFF_PUBLIC_URL: PUBLIC_URL, BFF_DATA_DIR: join(dataDir, 'data'), BFF_SPA_DIST: distDir, ...env });
  const rawLogs: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const tokenCalls: string[] = [];
  const faults: BffUnderTest['faults'] = { revocation: false, refresh: false };
  const waits: BffUnderTest['waits'] = [];
  const bff = await buildBff(config, {
    ...(clock ? { now: clock.now } : {}),
    wait: (ms) => new Promise<void>((end) => { waits.push({ ms, end }); }),
    logStream: {
      write(line: string) {
        rawLogs.push(line);
        logs.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
    idpFetch: (url, options) => {
      if (faults.wrongSecret && options.headers['authorization']) {
        options = { ...options, headers: { ...options.headers, authorization: `Basic ${Buffer.from(`${config.BFF_CLIENT_ID}:rotated-at-the-idp`).toString('base64')}` } };
      }
      const body = options.body instanceof URLSearchParams ? options.body : undefined;
      if (body?.has('grant_type')) tokenCalls.push(body.get('grant_type')!);
      // A revocation request is the only one with a token and no grant type.
      if (faults.revocation && body?.has('token') && !body.has('grant_type')) return Promise.reject(new TypeError('fetch failed'));
      const held = faults.revocationHeld;
      if (held && body?.has('token') && !body.has('grant_type')) return held.then(() => fetch(url, options as RequestInit));
      if (faults.refresh && body?.get('grant_type') === 'refresh_token') return Promise.reject(new TypeError('fetch failed'));
      return fetch(url, options as RequestInit);
    },
  });
  await bff.app.ready();
  if (waitForIdp) await bff.idp.configuration();
  const self: BffUnderTest = {
    ...bff, config, logs, rawLogs, tokenCalls, faults, waits, dataDir,
    async dispose() {
      await bff.app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await bff.app.close();
      return startBff(env, clock, dataDir, waitForIdp);
    },
  };
  return self;
}

export function auditEvents(bff: BffUnderTest, event: string): Array<Record<string, unknown>> {
  return bff.logs.filter((l) => l['audit'] === event);
}

/** A browser for the BFF: cookies kept from inject() answers and sent back. */
export class Browser {
  readonly cookies = new Map<string, string>();
  readonly idp: UserAgent = userAgent();
  bff: BffUnderTest;
  constructor(bff: BffUnderTest) {
    this.bff = bff;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }

  async request(method: string, url: string, init: { headers?: Record<string, string>; body?: string; csrf?: boolean } = {}) {
    const headers: Record<string, string> = { ...(init.csrf === false ? {} : { 'x-csrf': '1' }), ...init.headers };
    if (this.cookies.size) headers['cookie'] = this.cookieHeader();
    const res = await this.bff.app.inject({ method: method as 'GET', url, headers, ...(init.body !== undefined ? { payload: init.body } : {}) });
    for (const c of res.cookies as Array<{ name: string; value: string; expires?: Date; maxAge?: number }>) {
      if (c.value === '' || (c.expires && c.expires.getTime() <= Date.now()) || c.maxAge === 0) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return res;
  }

  get sessionId(): string | undefined {
    return this.cookies.get(SESSION_COOKIE);
  }

  /** /bff/login → IdP login form → the callback URL the IdP sends the browser to (not yet visited). */
  async startLogin(username: string, password: string, returnTo = '/'): Promise<string> {
    const start = await this.request('GET', `/bff/login?returnTo=${encodeURIComponent(returnTo)}`, { csrf: false });
    assert.equal(start.statusCode, 302, start.body);
    const issuer = this.bff.config.BFF_AUTHORITY;
    const page = await followIdpRedirects(this.idp, issuer, start.headers.location as string);
    const after = page.status === 200 ? await submitLogin(this.idp, issuer, page, username, password) : page;
    const location = after.headers.get('location');
    assert.ok(location?.startsWith(`${PUBLIC_URL}/bff/callback?`), `expected the callback, got ${after.status} ${location}`);
    return location!;
  }

  /** Visits the callback URL; answers the BFF's response. */
  async callback(location: string) {
    const url = new URL(location);
    return this.request('GET', url.pathname + url.search, { csrf: false });
  }

  async login(username = 'alice', password = 'demo-alice', returnTo = '/') {
    const res = await this.callback(await this.startLogin(username, password, returnTo));
    assert.equal(res.statusCode, 302, res.body);
    return res;
  }
}

/** The same browser (one cookie jar) as seen by another instance behind the load balancer. */
export function sameBrowserOn(bff: BffUnderTest, browser: Browser): Browser {
  const twin = new Browser(bff);
  for (const [name, value] of browser.cookies) twin.cookies.set(name, value);
  return twin;
}

export interface System {
  idp: IdpProcess;
  api: ApiUnderTest;
  dispose(): Promise<void>;
}

export async function startSystem(idpEnv: Record<string, string> = {}): Promise<System> {
  // Back-channel logout posts reach a BFF in the test process; the IdP's 2.5 s default could pass
  // on a slow machine while it answers. A hang bound here, not part of what is tested.
  const idp = await startIdp({ IDP_BACKCHANNEL_LOGOUT_TIMEOUT_MS: '60000', ...idpEnv });
  const api = await startApi(idp.issuer);
  return {
    idp, api,
    async dispose() {
      await api.dispose();
      await idp.dispose();
    },
  };
}

/**
 * Registers before/after hooks that start an IdP, an API and a BFF (against both) for the
 * enclosing suite; the getters answer them once started.
 */
export function useSystem(bffEnv: Record<string, string> = {}, clock?: ManualClock): { readonly system: System; bff: BffUnderTest } {
  let system: System | undefined;
  const handle = {
    get system(): System {
      assert.ok(system, 'the system is not started');
      return system;
    },
    bff: undefined as unknown as BffUnderTest,
  };
  before(async () => {
    system = await startSystem();
    handle.bff = await startBff({ BFF_AUTHORITY: system.idp.issuer, BFF_API_URL: system.api.url, ...bffEnv }, clock);
  });
  after(async () => {
    await handle.bff?.dispose();
    await system?.dispose();
  });
  return handle;
}
