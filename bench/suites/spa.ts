// SPA rows: the initial JavaScript of the production build (gzip), and the browser login round
// trip in headless Chromium against the whole running system (IdP, API, SPA server). Each row
// reports "n/a (reason)" when its part of the system is missing instead of failing the bench.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { portIsFree, startServer, type ServerProcess } from '../lib/children.ts';
import { DEMO_USER, type Idp } from '../lib/idp.ts';
import { median } from '../lib/stats.ts';
import { firstLine } from './api.ts';

const root = join(import.meta.dirname, '..', '..');
const SPA_DIR = join(root, 'apps', 'spa');
const SPA_ENTRY = join(SPA_DIR, 'server', 'server.ts');
export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const STEP_TIMEOUT_MS = 15_000;

export const SPA_ROWS = {
  initialJs: 'initial JavaScript of the production build, gzip -9',
  loginRoundTrip: 'browser login round trip: "Sign in" → "user one data" on screen',
} as const;

export interface InitialJs {
  files: { name: string; bytes: number; gzipBytes: number }[];
  bytes: number;
  gzipBytes: number;
  /** Whether the SPA server itself compresses JavaScript (when it was running to ask). */
  servedCompressed?: boolean;
  stale: boolean;
}

interface SpaBuildModule { distDir: string; isBuildStale(): boolean }

/** The SPA's own notion of its build (dist folder, stale or not), or undefined when it has none yet. */
async function spaBuild(): Promise<SpaBuildModule | undefined> {
  const file = join(SPA_DIR, 'server', 'build.ts');
  if (!existsSync(file)) return undefined;
  return (await import(pathToFileURL(file).href)) as SpaBuildModule;
}

/** Scripts index.html loads (and preloads), plus every chunk they import statically, transitively. */
export function initialScripts(distDir: string): string[] {
  const html = readFileSync(join(distDir, 'index.html'), 'utf8');
  const queue: string[] = [];
  for (const m of html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)) queue.push(m[1]!);
  for (const m of html.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+)"/g)) queue.push(m[1]!);
  const seen = new Set<string>();
  while (queue.length > 0) {
    const name = queue.shift()!.replace(/^\.?\//, '');
    if (seen.has(name) || /^[a-z]+:/i.test(name)) continue;
    seen.add(name);
    const code = readFileSync(join(distDir, name), 'utf8');
    // Static imports and re-exports only; import("./x.js") is a lazy chunk, not initial.
    for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*)["'](\.\/[\w.-]+\.js)["']/g)) queue.push(m[1]!);
  }
  return [...seen];
}

export async function measureInitialJs(): Promise<InitialJs | string> {
  const build = await spaBuild();
  if (!build) return 'the SPA has no server/build.ts yet';
  if (!existsSync(join(build.distDir, 'index.html'))) return 'no production build (apps/spa/dist); `npm run build -w apps/spa` makes one';
  const files = initialScripts(build.distDir).map((name) => {
    const content = readFileSync(join(build.distDir, name));
    return { name, bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
  });
  return {
    files,
    bytes: files.reduce((s, f) => s + f.bytes, 0),
    gzipBytes: files.reduce((s, f) => s + f.gzipBytes, 0),
    stale: build.isBuildStale(),
  };
}

export interface LoginRoundTrip {
  samplesMs: number[];
  medianMs: number;
  /** Median time after the click at which each step was seen. */
  phasesMs: Partial<LoginPhases>;
  spaServer: ServerProcess;
  servedCompressed: boolean;
}

export interface LoginRoundTripOptions {
  /** An IdP whose `spa` client accepts http://localhost:spaPort as redirect URI. */
  idp: Idp;
  spaPort: number;
  apiUrl: string;
  runs: number;
  /** The SPA server builds the app when dist is stale; quick mode does not wait for that. */
  allowBuild: boolean;
}

export async function measureLoginRoundTrip(opts: LoginRoundTripOptions): Promise<LoginRoundTrip | string> {
  const build = await spaBuild();
  if (!build || !existsSync(SPA_ENTRY)) return 'the SPA server (apps/spa/server/server.ts) is not there yet';
  if (!opts.allowBuild && build.isBuildStale()) return 'the SPA build is missing or older than its sources and --quick does not build it';
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed`;
  if (!(await portIsFree(opts.spaPort))) return `port ${opts.spaPort} is busy`;
  let spaServer: ServerProcess;
  try {
    spaServer = await startServer({
      name: 'SPA server',
      entry: SPA_ENTRY,
      cwd: SPA_DIR,
      port: opts.spaPort,
      healthPath: '/healthz',
      timeoutMs: opts.allowBuild ? 300_000 : 30_000,
      env: { SPA_PORT: String(opts.spaPort), SPA_HOST: '127.0.0.1', SPA_AUTHORITY: opts.idp.issuer, SPA_API_URL: opts.apiUrl },
    });
  } catch (err) {
    return `SPA server did not start: ${firstLine(err)}`;
  }
  const servedCompressed = await jsServedCompressed(spaServer.url);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    // The first run warms the servers, the browser and its caches of nothing: discarded.
    const spaUrl = `http://localhost:${opts.spaPort}/`;
    await oneLogin(browser, spaUrl, opts.idp.tokenEndpoint);
    const runs: LoginPhases[] = [];
    for (let i = 0; i < opts.runs; i++) runs.push(await oneLogin(browser, spaUrl, opts.idp.tokenEndpoint));
    const samplesMs = runs.map((r) => r.onScreen);
    return { samplesMs, medianMs: median(samplesMs), phasesMs: medianPhases(runs), spaServer, servedCompressed };
  } catch (err) {
    return `browser login failed: ${firstLine(err)}`;
  } finally {
    await browser?.close().catch(() => {});
  }
}

/** Milliseconds after the click on "Sign in" at which each step of the round trip was seen. */
export interface LoginPhases {
  /** The IdP answered the form post (password verified). */
  formAnswered?: number;
  /** The browser is back on the SPA with the code (document response). */
  backAtSpa?: number;
  /** The token endpoint answered the SPA's code exchange. */
  tokens?: number;
  /** The API answered GET /api/UserOne. */
  api?: number;
  /** "user one data" is visible. */
  onScreen: number;
}

/** One login in a fresh browser context (no cookies, no storage): from the click on "Sign in" on the IdP's form to the API's answer on screen. */
async function oneLogin(browser: Browser, spaUrl: string, tokenEndpoint: string): Promise<LoginPhases> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    await page.goto(spaUrl);
    await page.getByRole('button', { name: 'Log in' }).first().click();
    await page.getByLabel('Username').fill(DEMO_USER.username);
    await page.getByLabel('Password').fill(DEMO_USER.password);
    const signIn = page.getByRole('button', { name: 'Sign in' });
    await signIn.waitFor({ state: 'visible' });
    let start = Number.POSITIVE_INFINITY;
    const seen: Omit<LoginPhases, 'onScreen'> = {};
    page.on('response', (res) => {
      const t = performance.now() - start;
      if (t < 0) return;
      const url = res.url();
      const method = res.request().method();
      if (method === 'POST' && new URL(url).pathname.endsWith('/login')) seen.formAnswered ??= t;
      else if (url.startsWith(spaUrl) && url.includes('code=') && res.request().resourceType() === 'document') seen.backAtSpa ??= t;
      else if (method === 'POST' && url === tokenEndpoint) seen.tokens ??= t;
      else if (url.includes('/api/UserOne') && method === 'GET') seen.api ??= t;
    });
    start = performance.now();
    await signIn.click();
    await page.getByText('user one data').first().waitFor({ state: 'visible' });
    return { ...seen, onScreen: performance.now() - start };
  } finally {
    await context.close();
  }
}

/** Median of each phase over the runs where it was seen. */
export function medianPhases(runs: LoginPhases[]): Partial<LoginPhases> {
  const keys = ['formAnswered', 'backAtSpa', 'tokens', 'api', 'onScreen'] as const;
  const out: Partial<LoginPhases> = {};
  for (const k of keys) {
    const values = runs.map((r) => r[k]).filter((v): v is number => v !== undefined);
    if (values.length) out[k] = median(values);
  }
  return out;
}

async function jsServedCompressed(base: string): Promise<boolean> {
  try {
    const html = await (await fetch(base + '/', { signal: AbortSignal.timeout(5000) })).text();
    const src = /<script\b[^>]*\bsrc="([^"]+)"/.exec(html)?.[1];
    if (!src) return false;
    const res = await fetch(new URL(src, base + '/'), { headers: { 'accept-encoding': 'gzip, br' }, signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.headers.has('content-encoding');
  } catch {
    return false;
  }
}
