// SPA rows: the initial JavaScript of the production build (gzip), and the browser login round
// trip in headless Chromium against the whole running system (IdP, API, SPA server). Each row
// reports "n/a (reason)" when its part of the system is missing instead of failing the bench.
import { existsSync, readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Request } from 'playwright-core';
import { portIsFree, SERVER_START_TIMEOUT_MS, startServer, type ServerProcess } from '../lib/children.ts';
import { DEMO_USER, type Idp } from '../lib/idp.ts';
import { median } from '../lib/stats.ts';
import { firstLine } from '../lib/rows.ts';

const root = join(import.meta.dirname, '..', '..');
const SPA_DIR = join(root, 'apps', 'spa');
const SPA_ENTRY = join(SPA_DIR, 'server', 'server.ts');
export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const STEP_TIMEOUT_MS = 15_000;
const MAX_FAILED_BROWSER_RUNS = 3;

export const SPA_ROWS = {
  initialJs: 'initial JavaScript of the production build, gzip -9',
  loginRoundTrip: 'browser login round trip: "Sign in" → "user one data" on screen',
  bffLoginRoundTrip: 'browser login round trip in BFF mode: "Sign in" → "user one data" on screen',
} as const;

export interface InitialJs {
  files: { name: string; bytes: number; gzipBytes: number }[];
  bytes: number;
  gzipBytes: number;
  stale: boolean;
}

interface SpaBuildModule { distDir: string; isBuildStale(): boolean; ensureBuilt(log: (line: string) => void): void }

/** The SPA's own notion of its build (dist folder, stale or not), or undefined when it has none yet. */
async function spaBuild(): Promise<SpaBuildModule | undefined> {
  const file = join(SPA_DIR, 'server', 'build.ts');
  if (!existsSync(file)) return undefined;
  return (await import(pathToFileURL(file).href)) as SpaBuildModule;
}

/** The SPA's production build folder when it exists and is not older than its sources. */
export async function freshSpaDist(): Promise<string | undefined> {
  const build = await spaBuild();
  return build && existsSync(join(build.distDir, 'index.html')) && !build.isBuildStale() ? build.distDir : undefined;
}

/**
 * Builds the SPA when its build is missing or older than its sources, as its server would on start
 * (done before any measurement, so the build never competes with one). Returns why not, if not.
 */
export async function buildSpaIfStale(log: (line: string) => void): Promise<string | undefined> {
  const build = await spaBuild();
  if (!build) return 'the SPA has no server/build.ts yet';
  if (!build.isBuildStale()) return undefined;
  try {
    build.ensureBuilt(log);
    return undefined;
  } catch (err) {
    return `the SPA build failed: ${firstLine(err)}`;
  }
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
  /** Median time after the submission at which each step was seen. */
  phasesMs: Partial<Omit<LoginPhases, 'timeline'>>;
  /** The responses of the run closest to the median, for reading where the time goes. */
  typicalTimeline: string[];
  /** Why the runs that were retried failed. */
  failedRuns: string[];
  spaServer: ServerProcess;
  /** The initial scripts as the SPA server sent them, when it could be asked. */
  served?: ServedJs;
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
  if (!(await portIsFree(opts.spaPort))) return `port ${opts.spaPort} is busy`;
  let spaServer: ServerProcess;
  try {
    spaServer = await startServer({
      name: 'SPA server',
      entry: SPA_ENTRY,
      cwd: SPA_DIR,
      port: opts.spaPort,
      healthPath: '/healthz',
      timeoutMs: opts.allowBuild ? 300_000 : SERVER_START_TIMEOUT_MS,
      env: { SPA_PORT: String(opts.spaPort), SPA_HOST: '127.0.0.1', SPA_AUTHORITY: opts.idp.issuer, SPA_API_URL: opts.apiUrl },
    });
  } catch (err) {
    return `SPA server did not start: ${firstLine(err)}`;
  }
  const served = await servedInitialJs(spaServer.url).catch(() => undefined);
  const logins = await measureBrowserLogins(`http://localhost:${opts.spaPort}/`, opts.idp.tokenEndpoint, opts.runs);
  return typeof logins === 'string' ? logins : { ...logins, spaServer, ...(served ? { served } : {}) };
}

export type BrowserLogins = Omit<LoginRoundTrip, 'spaServer' | 'served'>;

/**
 * `runs` logins in Chromium, each in a fresh context, on the app at `appUrl` (the SPA server, or
 * the BFF serving the same build), after one discarded warm-up run.
 */
export async function measureBrowserLogins(appUrl: string, tokenEndpoint: string, runs: number): Promise<BrowserLogins | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed`;
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    // The first run warms the servers, the browser and its caches of nothing: discarded.
    await oneLogin(browser, appUrl, tokenEndpoint).catch(() => undefined);
    // A run that fails (a step timing out) is retried, a few times at most, and counted.
    const done: LoginPhases[] = [];
    const failures: string[] = [];
    while (done.length < runs && failures.length <= MAX_FAILED_BROWSER_RUNS) {
      try {
        done.push(await oneLogin(browser, appUrl, tokenEndpoint));
      } catch (err) {
        failures.push(firstLine(err));
      }
    }
    if (done.length < runs) throw new Error(`${failures.length} runs failed, the last with: ${failures.at(-1)}`);
    const samplesMs = done.map((r) => r.onScreen);
    const medianMs = median(samplesMs);
    const typical = done.reduce((best, r) => (Math.abs(r.onScreen - medianMs) < Math.abs(best.onScreen - medianMs) ? r : best));
    return { samplesMs, medianMs, phasesMs: medianPhases(done), typicalTimeline: typical.timeline ?? [], failedRuns: failures };
  } catch (err) {
    return `browser login failed: ${firstLine(err)}`;
  } finally {
    await browser?.close().catch(() => {});
  }
}

/** Milliseconds after the login form was submitted at which each step of the round trip was seen. */
export interface LoginPhases {
  /** The IdP answered the form post (password verified). */
  formAnswered?: number;
  /** The browser is back on the SPA with the code (document response). */
  backAtSpa?: number;
  /** The token endpoint answered the SPA's code exchange. */
  tokens?: number;
  /** The API answered GET /api/UserOne. */
  api?: number;
  /** The first frame painted with "user one data" in the page. */
  onScreen: number;
  /** Every response after the submission: ms after it, method and URL without query. */
  timeline?: string[];
}

/**
 * Runs in every document of the bench's browser context: reports, on the page's own clock (epoch
 * milliseconds with fractions), when the login form is submitted and the first animation frame
 * after "user one data" entered the DOM. Polling from outside the page would add its own interval.
 */
const PAGE_PROBE = `(() => {
  const mark = (name) => window.__benchMark(name, performance.timeOrigin + performance.now());
  document.addEventListener('submit', () => mark('submit'), true);
  let seen = false;
  const check = () => {
    if (seen || !document.body || !document.body.textContent.includes('user one data')) return;
    seen = true;
    requestAnimationFrame(() => mark('onScreen'));
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
})();`;

const epochNow = () => performance.timeOrigin + performance.now();

/** One login in a fresh browser context (no cookies, no storage): from submitting the IdP's login form to "user one data" painted by the SPA. */
async function oneLogin(browser: Browser, spaUrl: string, tokenEndpoint: string): Promise<LoginPhases> {
  const context = await browser.newContext();
  try {
    const marks = new Map<string, number>();
    await context.exposeBinding('__benchMark', (_source, name: string, at: number) => { if (!marks.has(name)) marks.set(name, at); });
    await context.addInitScript(PAGE_PROBE);
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    await page.goto(spaUrl);
    await page.getByRole('button', { name: 'Log in' }).first().click();
    await page.getByLabel('Username').fill(DEMO_USER.username);
    await page.getByLabel('Password').fill(DEMO_USER.password);
    const responses: { at: number; url: string; method: string; document: boolean }[] = [];
    // When each response ended, on the browser's own clock (Playwright's request timing: wall-clock
    // start plus offsets), so the phases compare with the in-page marks without event-delivery lag.
    const record = (req: Request) => {
      const t = req.timing();
      const at = t.startTime > 0 && t.responseEnd >= 0 ? t.startTime + t.responseEnd : epochNow();
      responses.push({ at, url: req.url(), method: req.method(), document: req.resourceType() === 'document' });
    };
    page.on('requestfinished', record);
    page.on('requestfailed', record);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('user one data').first().waitFor({ state: 'visible' });
    // The probe's last mark can trail the text by one frame.
    for (let i = 0; i < 50 && !marks.has('onScreen'); i++) await new Promise((r) => setTimeout(r, 20));
    const submit = marks.get('submit');
    const onScreen = marks.get('onScreen');
    if (submit === undefined || onScreen === undefined) throw new Error('the page probe did not report the form submission and the data on screen');
    const first = (match: (r: (typeof responses)[number]) => boolean) => {
      const hit = responses.find((r) => r.at >= submit && match(r));
      return hit ? { v: hit.at - submit } : undefined;
    };
    const phases: LoginPhases = { onScreen: onScreen - submit };
    const formAnswered = first((r) => r.method === 'POST' && new URL(r.url).pathname.endsWith('/login'));
    const backAtSpa = first((r) => r.document && r.url.startsWith(spaUrl) && r.url.includes('code='));
    const tokens = first((r) => r.method === 'POST' && r.url === tokenEndpoint);
    const api = first((r) => r.method === 'GET' && r.url.includes('/api/UserOne'));
    if (formAnswered) phases.formAnswered = formAnswered.v;
    if (backAtSpa) phases.backAtSpa = backAtSpa.v;
    if (tokens) phases.tokens = tokens.v;
    if (api) phases.api = api.v;
    phases.timeline = responses.filter((r) => r.at >= submit).sort((x, y) => x.at - y.at).map((r) => `${(r.at - submit).toFixed(0)} ms ${r.method} ${r.url.split('?', 1)[0]}`);
    return phases;
  } finally {
    await context.close();
  }
}

/** Median of each phase over the runs where it was seen. */
export function medianPhases(runs: LoginPhases[]): Partial<Omit<LoginPhases, 'timeline'>> {
  const keys = ['formAnswered', 'backAtSpa', 'tokens', 'api', 'onScreen'] as const;
  const out: Partial<Omit<LoginPhases, 'timeline'>> = {};
  for (const k of keys) {
    const values = runs.map((r) => r[k]).filter((v): v is number => v !== undefined);
    if (values.length) out[k] = median(values);
  }
  return out;
}

/** What the SPA server sends for the initial scripts to a browser offering br and gzip: body bytes on the wire, and the encodings used. */
export interface ServedJs {
  bytes: number;
  encodings: string[];
}

async function servedInitialJs(base: string): Promise<ServedJs | undefined> {
  const build = await spaBuild();
  if (!build) return undefined;
  let bytes = 0;
  const encodings = new Set<string>();
  for (const name of initialScripts(build.distDir)) {
    const res = await wireGet(`${base}/${name}`);
    if (res.status !== 200) return undefined;
    bytes += res.bytes;
    encodings.add(res.encoding ?? 'identity');
  }
  return { bytes, encodings: [...encodings] };
}

/** GET without decompression (fetch would decode): the body as sent. */
function wireGet(url: string): Promise<{ status: number; bytes: number; encoding?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { headers: { 'accept-encoding': 'gzip, deflate, br, zstd' }, timeout: 5000 }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => { bytes += chunk.length; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ...(res.headers['content-encoding'] ? { encoding: res.headers['content-encoding'] } : {}) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
